import NetCore

/// Bytes the application has written that are not yet acknowledged: from SND.UNA on
/// (RFC 9293 §3.3.1, the send sequence space), in a `ByteRing` charged to the stack's
/// `MemoryBudget`.
///
/// Data is copied in once by ``append(_:limit:)``, read (for first transmission and for
/// retransmissions) by offset from SND.UNA, and dropped from the front as it is acknowledged.
/// How much the application may queue is the connection's decision (`TCPConnection` sizes it
/// from the congestion window and the peer's window, as Linux's `tcp_sndbuf_expand` does); an
/// idle connection holds no storage.
public struct TCPSendBuffer: ~Copyable {
  private var ring: ByteRing

  public init(budget: MemoryBudget) {
    ring = ByteRing(budget: budget, use: .tcpSend)
  }

  /// Bytes held (unacknowledged, sent or not).
  public var count: Int { ring.count }
  public var isEmpty: Bool { ring.isEmpty }
  /// Bytes of storage allocated.
  public var capacity: Int { ring.capacity }
  /// Bytes of memory charged for this buffer.
  public var charged: Int { ring.charged }

  /// Copies as much of `bytes` as keeps the buffer within `limit` bytes and the memory budget
  /// allows; returns how many were taken.
  public mutating func append(_ bytes: Span<UInt8>, limit: Int) -> Int {
    let room = limit - ring.count
    guard room > 0 else { return 0 }
    return ring.append(bytes.extracting(0..<min(room, bytes.count)))
  }

  /// Drops `length` acknowledged bytes from the front.
  public mutating func removeFirst(_ length: Int) {
    ring.removeFirst(length)
  }

  /// Copies `length` bytes starting `offset` bytes after the front into `destination` at
  /// `position`.
  public func copy(
    offset: Int, length: Int, into destination: inout MutableSpan<UInt8>, at position: Int
  ) {
    ring.copy(offset: offset, length: length, into: &destination, at: position)
  }

  /// Gives back storage the bytes held no longer need.
  public mutating func shrinkToFit() {
    ring.shrinkToFit()
  }
}
