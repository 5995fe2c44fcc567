import NetCore

/// Where a capture goes: a file on Linux (`LinuxRuntime.PcapWriter`), anything else elsewhere
/// (a unikernel's console, a test's array). The record format is ``PcapFormat``'s.
public protocol PcapSink {
  /// Stores one frame seen at `now` (whole, as it was on the wire).
  mutating func record(_ frame: Span<UInt8>, at now: Instant)
  /// Makes what was stored so far readable by others.
  mutating func flush()
}

/// A device that records every frame in and out of the device it wraps, in libpcap's format,
/// for tcpdump, tshark and Wireshark (`netstackd --pcap`); the frames pass unchanged.
///
/// A frame whose transport checksum is left to the hardware (sent with checksum offload, or
/// received from a TAP with `NEEDS_CSUM`) is recorded with the checksum completed, as it looks
/// on the wire. The sink is flushed at least once a second (``nextDeadline``). Without a sink
/// the device passes everything straight through (no copy, no queue of its own).
public struct PcapDevice<Inner: NetworkDevice & ~Copyable, Sink: PcapSink>: NetworkDevice,
  ~Copyable
{
  public var inner: Inner
  public var sink: Sink?
  /// Frames taken from the stack, on their way to the inner device.
  private var outbound: FrameQueue
  private var nextFlush: Instant?

  /// How often the sink is flushed while frames come and go.
  public static var flushInterval: Interval { .seconds(1) }

  public init(wrapping inner: consuming Inner, sink: Sink?, queueLimit: Int = 4096) {
    self.inner = inner
    self.sink = sink
    outbound = FrameQueue(limit: queueLimit)
  }

  public var mtu: Int { inner.mtu }
  public var hardwareAddress: MACAddress? { inner.hardwareAddress }
  public var nextDeadline: Instant? { Instant.earliest(inner.nextDeadline, nextFlush) }

  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(Inner.Failure) -> Int {
    guard sink != nil else { return try inner.receive(limit: limit, now: now, handler) }
    let received = try inner.receive(limit: limit, now: now) { frame, info in
      if info.transportChecksumVerified {
        let copy = PacketBuffer(copying: frame, headroom: 0)
        copy.withMutableBytes { FrameChecksum.completeTransportChecksum(&$0) }
        copy.withBytes { sink!.record($0, at: now) }
      } else {
        sink!.record(frame, at: now)
      }
      handler(frame, info)
    }
    flushIfDue(now: now, active: received > 0)
    return received
  }

  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(Inner.Failure) {
    guard sink != nil else { return try inner.transmit(&queue, now: now) }
    var moved = false
    while !outbound.isFull, let frame = queue.popFirst() {
      if frame.offload == .none {
        frame.withBytes { sink!.record($0, at: now) }
      } else {
        let copy = frame.withBytes { PacketBuffer(copying: $0, headroom: 0) }
        copy.withMutableBytes { FrameChecksum.completeTransportChecksum(&$0) }
        copy.withBytes { sink!.record($0, at: now) }
      }
      outbound.append(frame)
      moved = true
    }
    try inner.transmit(&outbound, now: now)
    flushIfDue(now: now, active: moved)
  }

  /// Flushes once a second while frames pass, and once more a second after the last.
  private mutating func flushIfDue(now: Instant, active: Bool) {
    if let due = nextFlush, due <= now {
      sink?.flush()
      nextFlush = nil
    }
    if active && nextFlush == nil { nextFlush = now + Self.flushInterval }
  }
}

/// The classic libpcap file format (link type 1, Ethernet; nanosecond timestamps): what a
/// ``PcapSink`` writes.
public enum PcapFormat {
  /// The most bytes of one frame stored (longer frames are truncated in the file).
  public static let snapshotLength: UInt32 = 262_144

  /// The file header.
  public static var fileHeader: [UInt8] {
    var header: [UInt8] = []
    append(UInt32(0xA1B2_3C4D), to: &header)  // nanosecond magic
    append(UInt16(2), to: &header)
    append(UInt16(4), to: &header)
    append(UInt32(0), to: &header)  // thiszone
    append(UInt32(0), to: &header)  // sigfigs
    append(snapshotLength, to: &header)
    append(UInt32(1), to: &header)  // LINKTYPE_ETHERNET
    return header
  }

  /// The header of one record: the time (seconds and nanoseconds since the epoch), the bytes
  /// stored and the frame's length.
  public static func recordHeader(seconds: UInt32, nanoseconds: UInt32, length: Int) -> [UInt8] {
    var header: [UInt8] = []
    header.reserveCapacity(16)
    append(seconds, to: &header)
    append(nanoseconds, to: &header)
    append(min(UInt32(length), snapshotLength), to: &header)
    append(UInt32(length), to: &header)
    return header
  }

  private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    for index in 0..<(T.bitWidth / 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index)))
    }
  }
}
