/// An owned, contiguous byte buffer for one packet, with headroom in front so that each layer
/// can prepend its header without copying the payload.
///
/// A packet to send is built back to front: the transport layer reserves headroom for every
/// header below it, writes its payload and header, and each lower layer calls
/// ``prepend(_:)`` and writes its own header in the bytes that appear at the front.
/// Received frames are not copied into these: they are parsed in place (views over a `Span`);
/// a layer that must keep data (a reassembly, a queued datagram) copies what it keeps.
///
/// Invariant: `0 <= startIndex <= endIndex <= capacity`.
public final class PacketBuffer {
  /// Total bytes of storage.
  public let capacity: Int
  private let storage: UnsafeMutablePointer<UInt8>
  /// Offset of the first byte of data.
  public private(set) var startIndex: Int
  /// Offset one past the last byte of data.
  public private(set) var endIndex: Int
  /// Offloads the device should perform when sending this packet (checksum, segmentation).
  public var offload: TransmitOffload = .none

  /// Headroom that leaves room for every header the stack writes (virtio-net 12, Ethernet 14,
  /// IPv4 60, TCP 60), rounded up.
  public static let defaultHeadroom = 160

  /// An empty buffer of `capacity` bytes whose data starts `headroom` bytes in.
  public init(capacity: Int, headroom: Int = PacketBuffer.defaultHeadroom) {
    precondition(capacity >= 0 && headroom >= 0 && headroom <= capacity)
    self.capacity = capacity
    storage = .allocate(capacity: Swift.max(capacity, 1))
    startIndex = headroom
    endIndex = headroom
  }

  /// A buffer holding a copy of `bytes`, with `headroom` free bytes in front.
  public convenience init(copying bytes: Span<UInt8>, headroom: Int = PacketBuffer.defaultHeadroom)
  {
    self.init(capacity: headroom + bytes.count, headroom: headroom)
    append(copying: bytes)
  }

  deinit { storage.deallocate() }

  /// Bytes of data.
  public var count: Int { endIndex - startIndex }
  /// Free bytes in front of the data.
  public var headroom: Int { startIndex }
  /// Free bytes after the data.
  public var tailroom: Int { capacity - endIndex }

  /// Grows the data by `count` bytes at the front (their contents are whatever was there).
  /// The caller has ensured the headroom; running out is a bug in the stack.
  public func prepend(_ count: Int) {
    precondition(count >= 0 && count <= headroom, "PacketBuffer: not enough headroom")
    startIndex -= count
  }

  /// Grows the data by `count` bytes at the end (contents undefined until written).
  public func append(_ count: Int) {
    precondition(count >= 0 && count <= tailroom, "PacketBuffer: not enough tailroom")
    endIndex += count
  }

  /// Appends a copy of `bytes`.
  public func append(copying bytes: Span<UInt8>) {
    let offset = count
    append(bytes.count)
    withMutableBytes { $0.copy(from: bytes, at: offset) }
  }

  /// Drops `count` bytes from the front (a header that has been consumed).
  public func removeFirst(_ count: Int) {
    precondition(count >= 0 && count <= self.count)
    startIndex += count
  }

  /// Drops `count` bytes from the end (padding, say).
  public func removeLast(_ count: Int) {
    precondition(count >= 0 && count <= self.count)
    endIndex -= count
  }

  /// Empties the buffer and sets the headroom again, for reuse.
  public func reset(headroom: Int = PacketBuffer.defaultHeadroom) {
    precondition(headroom >= 0 && headroom <= capacity)
    startIndex = headroom
    endIndex = headroom
    offload = .none
  }

  /// Calls `body` with the data.
  public func withBytes<Result: ~Copyable, Failure: Error>(
    _ body: (Span<UInt8>) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    let buffer = UnsafeBufferPointer(start: storage + startIndex, count: count)
    return try body(Span(_unsafeElements: buffer))
  }

  /// Calls `body` with the data, writable.
  public func withMutableBytes<Result: ~Copyable, Failure: Error>(
    _ body: (inout MutableSpan<UInt8>) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    let buffer = UnsafeMutableBufferPointer(start: storage + startIndex, count: count)
    var span = MutableSpan(_unsafeElements: buffer)
    return try body(&span)
  }

  /// Calls `body` with a pointer to the whole storage and the data's range in it; for
  /// drivers that read into or write from a buffer with a system call.
  public func withUnsafeStorage<Result, Failure: Error>(
    _ body: (UnsafeMutableRawBufferPointer, Range<Int>) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    try body(UnsafeMutableRawBufferPointer(start: storage, count: capacity), startIndex..<endIndex)
  }

  /// Sets the data range directly (after a driver has read into the storage).
  public func setRange(_ range: Range<Int>) {
    precondition(range.lowerBound >= 0 && range.upperBound <= capacity)
    startIndex = range.lowerBound
    endIndex = range.upperBound
  }
}

/// What a device should still do to a packet as it sends it: the work a NIC (or the Linux
/// kernel behind a TAP with a virtio-net header) can take off the stack.
///
/// `start` is a position in the buffer's storage (like ``PacketBuffer/startIndex``), not an
/// offset in the data, so that the headers lower layers prepend later leave it valid; a device
/// turns it into an offset in the frame with `start - packet.startIndex`.
public enum TransmitOffload: Equatable, Sendable {
  /// Nothing: the packet is complete.
  case none
  /// The transport checksum still has to be computed over the bytes from `start` to the end
  /// of the packet and stored at `start + checksumOffset`; the field already holds the
  /// pseudo-header sum (virtio-net `VIRTIO_NET_HDR_F_NEEDS_CSUM`).
  case checksum(start: Int, checksumOffset: Int)
  /// Like `checksum`, and the TCP segment is larger than the MTU: the device cuts it into
  /// segments of `segmentSize` payload bytes (TSO/GSO). `headerLength` is the TCP header's.
  case tcpSegmentation(start: Int, checksumOffset: Int, headerLength: Int, segmentSize: Int)
}

extension PacketBuffer {
  /// Completes an offloaded transport checksum in place (for a device that cannot, or for a
  /// capture that should show the packet as it will look on the wire). A segmentation offload
  /// keeps its size: the checksum covers the whole large segment.
  public func completeOffloadedChecksum() {
    let start: Int
    let offset: Int
    switch offload {
    case .none: return
    case .checksum(let position, let field): (start, offset) = (position, field)
    case .tcpSegmentation(let position, let field, _, _): (start, offset) = (position, field)
    }
    let transport = start - startIndex
    guard transport >= 0, transport + offset + 2 <= count else { return }
    withMutableBytes { bytes in
      // The field holds the pseudo-header sum; summing the segment over it and complementing
      // gives the full checksum.
      var sum = InternetChecksum()
      sum.add(bytes.span.extracting(transport..<bytes.count))
      bytes.setUInt16(sum.value, at: transport + offset)
    }
  }
}
