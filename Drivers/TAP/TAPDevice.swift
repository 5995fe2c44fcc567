import CLinuxShims
import Glibc
import NetCore

/// A Linux TAP device: Ethernet frames to and from the host kernel through `/dev/net/tun`.
///
/// Opened with `IFF_TAP | IFF_NO_PI` (`ioctl(TUNSETIFF)`), which attaches to the named device
/// or creates it (a device created here disappears when it is closed). The descriptor is
/// non-blocking: ``receive(limit:now:_:)`` reads frames with `read(2)` until none is left or the
/// batch limit is reached, and ``transmit(_:now:)`` writes queued frames with `write(2)` until the
/// queue is empty or the kernel pushes back (`EAGAIN`). Owns its descriptor: `~Copyable`, closed
/// in `deinit`.
///
/// With offloads on (the default), the device is opened with `IFF_VNET_HDR`, a 12-byte
/// virtio-net header (`TUNSETVNETHDRSZ`) and `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | ...)`:
/// the kernel hands the stack TCP segments of up to 64 KiB with checksums it vouches for, and
/// takes segments of that size from the stack, cutting them and filling in checksums itself.
///
/// With a ``TAPWriteMode`` other than `write`, frames go out through an io_uring
/// (`TAPRingWriter`): many writes for one system call, or for none with a submission thread;
/// where the kernel refuses io_uring (`io_uring_setup(2)` fails: an old kernel,
/// `kernel.io_uring_disabled`, a container's seccomp filter) the device writes with
/// `write(2)` and says why in ``writeModeRefusal``.
public struct TAPDevice: ~Copyable, NetworkDevice {
  /// What the driver throws.
  public typealias Failure = TAPError

  /// The interface name the kernel gave the device.
  public let name: String
  /// The `/dev/net/tun` descriptor, for the event loop's epoll set.
  public let fileDescriptor: Int32
  /// Whether the device did not exist before this opened it.
  public let createdDevice: Bool
  /// The largest IPv4 packet a frame carries (the host side of the TAP should have the same).
  public let mtu: Int
  /// None: a TAP has no MAC address of its own on the stack's side; the stack chooses one.
  public var hardwareAddress: MACAddress? { nil }

  /// Whether frames carry a virtio-net header (checksum and segmentation offload).
  public let offloads: Bool
  /// Frames the kernel did not take (`write` failed other than with `EAGAIN`).
  public private(set) var transmitErrors: UInt64 = 0
  /// Frames read and written.
  public private(set) var framesRead: UInt64 = 0
  /// Frames written to the kernel.
  public private(set) var framesWritten: UInt64 = 0

  /// How frames are written: the mode asked for, or ``TAPWriteMode/write`` when io_uring was
  /// refused.
  public let writeMode: TAPWriteMode
  /// Why the io_uring asked for could not be set up (the device writes with `write(2)`).
  public let writeModeRefusal: TAPError?
  /// With io_uring: `io_uring_enter(2)` calls made to submit frames.
  public var ringSubmissions: UInt64 { ringWriter?.submissions ?? 0 }

  private let receiveBuffer: UnsafeMutableRawBufferPointer
  private let ringWriter: TAPRingWriter?

  /// Opens (or creates) the TAP device `name`, for frames carrying IPv4 packets of up to `mtu`,
  /// written as `writeMode` says (see ``TAPWriteMode``).
  public init(name: String, mtu: Int, offloads: Bool = true, writeMode: TAPWriteMode = .write)
    throws(TAPError)
  {
    let bytes = Array(name.utf8)
    guard !bytes.isEmpty, bytes.count < Int(IFNAMSIZ),
      !bytes.contains(UInt8(ascii: "/")), !bytes.contains(UInt8(ascii: " "))
    else { throw .invalidName(name) }
    let existed = netstack_interface_exists(name) != 0
    var actual = [CChar](repeating: 0, count: Int(IFNAMSIZ) + 1)
    let result = netstack_tap_open(name, offloads ? 1 : 0, &actual)
    if result < 0 {
      switch -result {
      case ENOENT, ENODEV: throw .noTunDevice
      case EPERM, EACCES: throw .permissionDenied(name)
      case EBUSY: throw .busy(name)
      case EINVAL: throw .notATAPDevice(name)
      default: throw .system(operation: "TUNSETIFF on \(name)", errno: -result)
      }
    }
    if offloads {
      let flags =
        netstack_tun_f_csum | netstack_tun_f_tso4 | netstack_tun_f_tso6 | netstack_tun_f_tso_ecn
      let sized = netstack_tap_set_vnet_header_size(result, Int32(VirtioNetHeader.length))
      let offloaded = sized == 0 ? netstack_tap_set_offload(result, flags) : sized
      if offloaded < 0 {
        close(result)
        throw .system(operation: "TUNSETVNETHDRSZ/TUNSETOFFLOAD on \(name)", errno: -offloaded)
      }
    }
    self.offloads = offloads
    fileDescriptor = result
    self.name = String(
      decoding: actual.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    createdDevice = !existed
    self.mtu = mtu
    var writer: TAPRingWriter? = nil
    var refusal: TAPError? = nil
    if writeMode != .write {
      do {
        writer = try TAPRingWriter(mode: writeMode)
      } catch {
        refusal = error
      }
    }
    ringWriter = writer
    writeModeRefusal = refusal
    self.writeMode = writer == nil ? .write : writeMode
    receiveBuffer = .allocate(
      byteCount: max(mtu, 65535) + 64 + VirtioNetHeader.length, alignment: 64)
  }

  deinit {
    ringWriter?.finishWrites()  // before the descriptor the queued writes name is closed
    close(fileDescriptor)
    receiveBuffer.deallocate()
  }

  /// Reads up to `limit` frames with `read(2)`, stopping early when none is left (`EAGAIN`),
  /// and hands each to `handler` without its virtio-net header, marked as checksum-verified
  /// when the header says the kernel vouches for it. A read shorter than the header is skipped.
  /// Returns how many reads there were.
  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(TAPError) -> Int {
    var received = 0
    while received < limit {
      let count = read(fileDescriptor, receiveBuffer.baseAddress, receiveBuffer.count)
      if count < 0 {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK { break }
        if code == EINTR { continue }
        throw .system(operation: "read from \(name)", errno: code)
      }
      received += 1
      framesRead += 1
      var info = ReceivedFrameInfo()
      var start = 0
      if offloads {
        guard count >= VirtioNetHeader.length else { continue }
        let header = VirtioNetHeader(
          UnsafeRawBufferPointer(start: receiveBuffer.baseAddress, count: count))
        info.transportChecksumVerified = header.checksumTrusted
        start = VirtioNetHeader.length
      }
      let frame = UnsafeBufferPointer(
        start: receiveBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + start,
        count: count - start)
      handler(Span(_unsafeElements: frame), info)
    }
    return received
  }

  /// Writes queued frames with `write(2)` (or through the io_uring, see ``TAPWriteMode``),
  /// each with its virtio-net header (written into the frame's headroom) when offloads are on,
  /// until the queue is empty or the kernel pushes back (`EAGAIN`, or every io_uring slot
  /// taken: the rest stay queued). A frame the kernel refuses is dropped and counted in
  /// ``transmitErrors``.
  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(TAPError) {
    if let ringWriter {
      let offloads = self.offloads
      var unsendable: UInt64 = 0
      let refusedBefore = ringWriter.framesRefused
      try ringWriter.transmit(&queue, fileDescriptor: fileDescriptor) { frame in
        let bytes = TAPDevice.wireBytes(of: frame, offloads: offloads)
        if bytes == nil { unsendable += 1 }
        return bytes
      }
      transmitErrors += unsendable + (ringWriter.framesRefused - refusedBefore)
      framesWritten = ringWriter.framesWritten
      return
    }
    while let frame = queue.first {
      guard let bytes = TAPDevice.wireBytes(of: frame, offloads: offloads) else {
        transmitErrors += 1
        _ = queue.popFirst()
        continue
      }
      let written = write(fileDescriptor, bytes.baseAddress, bytes.count)
      if written < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return }
        // A frame the kernel refuses (too big, say) is dropped, not retried forever.
        transmitErrors += 1
      } else {
        framesWritten += 1
      }
      _ = queue.popFirst()
    }
  }

  /// The bytes to write for `frame`: the frame, preceded by its virtio-net header (written into
  /// its headroom) when offloads are on; nil when it has no room for the header (never the
  /// case for the stack's own buffers). Valid while the frame lives.
  static func wireBytes(of frame: PacketBuffer, offloads: Bool) -> UnsafeRawBufferPointer? {
    if offloads && frame.headroom < VirtioNetHeader.length { return nil }
    return frame.withUnsafeStorage { storage, range in
      var start = range.lowerBound
      if offloads {
        start -= VirtioNetHeader.length
        // The EtherType (bytes 12 and 13 of the frame) says which TCP a segment carries.
        let carriesIPv6 =
          range.count >= 14 && storage[range.lowerBound + 12] == 0x86
          && storage[range.lowerBound + 13] == 0xDD
        VirtioNetHeader(
          offload: frame.offload, frameStart: range.lowerBound, carriesIPv6: carriesIPv6
        ).write(to: storage.baseAddress! + start)
      }
      return UnsafeRawBufferPointer(
        start: storage.baseAddress! + start, count: range.upperBound - start)
    }
  }
}
