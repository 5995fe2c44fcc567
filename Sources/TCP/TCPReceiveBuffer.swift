import NetCore

/// Received bytes waiting for the application, and bytes that arrived out of order (RFC 9293
/// §3.10.7.4 "seventh, process the segment text").
///
/// In-order bytes (up to RCV.NXT) wait in a `ByteRing`; bytes beyond RCV.NXT wait in a
/// `TCPOutOfOrderQueue` until the gap before them fills, then move into the ring. Both are
/// charged to the stack's `MemoryBudget` for what they hold, so memory follows the bytes
/// that arrived, not the window that was offered. ``limit`` is the window's ceiling (readable
/// bytes plus the space the peer may fill); the connection grows it as the application
/// proves it reads fast enough (`TCPConnection` does the measuring, as Linux's
/// `tcp_rcv_space_adjust` does).
public struct TCPReceiveBuffer: ~Copyable {
  private var readable: ByteRing
  private var outOfOrder: TCPOutOfOrderQueue
  /// The stream position of RCV.NXT: bytes made readable since the connection opened.
  private var nextPosition = 0
  /// The most bytes held from the application's read position: the receive window's ceiling.
  public var limit: Int

  /// What became of received data.
  public struct WriteOutcome: Equatable {
    /// How far RCV.NXT moves.
    public var advance: Int
    /// Bytes dropped because the memory budget refused them.
    public var droppedForMemory = 0
    /// Out-of-order data was dropped because it would have needed too many pieces.
    public var droppedForPieceLimit = false
  }

  /// Bytes copied in from segments so far (readable or held out of order): the one copy a
  /// received byte makes.
  public private(set) var bytesCopiedIn = 0
  /// Bytes copied a second time: out-of-order data moved into the readable bytes once the gap
  /// before it filled.
  public private(set) var bytesReordered = 0

  public init(limit: Int, budget: MemoryBudget) {
    precondition(limit > 0)
    self.limit = limit
    readable = ByteRing(budget: budget, use: .tcpReceive)
    outOfOrder = TCPOutOfOrderQueue(budget: budget)
  }

  /// Bytes the application can read.
  public var count: Int { readable.count }
  /// Space for data beyond RCV.NXT: the receive window.
  public var window: Int { max(limit - readable.count, 0) }
  /// Bytes held out of order.
  public var outOfOrderBytes: Int { outOfOrder.byteCount }
  /// Whether data waits beyond a gap.
  public var hasOutOfOrderData: Bool { !outOfOrder.isEmpty }
  /// The number of separate out-of-order ranges (SACK blocks to report).
  public var outOfOrderRangeCount: Int { outOfOrder.rangeCount }
  /// Bytes of memory charged for this buffer.
  public var charged: Int { readable.charged + outOfOrder.charged }

  /// Stores `bytes` received `offset` bytes after RCV.NXT, clipped to `window` (by default
  /// the free space; the connection passes the window it advertised, which rounding to the
  /// window scale can put a little past it). Data at RCV.NXT becomes readable, with whatever
  /// waited out of order right after it; data further on is held out of order unless
  /// `acceptOutOfOrder` is false (the stack is short of memory), in which case it is dropped.
  public mutating func write(
    _ bytes: Span<UInt8>, at offset: Int, window: Int? = nil, acceptOutOfOrder: Bool = true
  ) -> WriteOutcome {
    precondition(offset >= 0)
    let end = min(offset + bytes.count, max(window ?? 0, self.window))
    guard end > offset else { return WriteOutcome(advance: 0) }
    let data = bytes.extracting(0..<(end - offset))
    if offset > 0 {
      guard acceptOutOfOrder else { return WriteOutcome(advance: 0, droppedForMemory: data.count) }
      switch outOfOrder.insert(data, at: nextPosition + offset) {
      case .stored:
        bytesCopiedIn += data.count
        return WriteOutcome(advance: 0)
      case .droppedPieceLimit: return WriteOutcome(advance: 0, droppedForPieceLimit: true)
      case .droppedMemory: return WriteOutcome(advance: 0, droppedForMemory: data.count)
      }
    }
    let taken = readable.append(data)
    var outcome = WriteOutcome(advance: taken, droppedForMemory: data.count - taken)
    bytesCopiedIn += taken
    nextPosition += taken
    guard taken == data.count, !outOfOrder.isEmpty else { return outcome }
    // The gap may have filled: what waited right behind it becomes readable.
    outOfOrder.removeAll(before: nextPosition)
    while let waiting = outOfOrder.contiguousBytes(from: nextPosition) {
      let moved = waiting.withUnsafeBufferPointer { readable.append(Span(_unsafeElements: $0)) }
      nextPosition += moved
      outcome.advance += moved
      bytesReordered += moved
      outOfOrder.removeAll(before: nextPosition)
      if moved < waiting.count { break }
    }
    return outcome
  }

  /// Copies up to `destination.count` readable bytes out and drops them; returns how many.
  public mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
    readable.read(into: destination)
  }

  /// Hands the readable bytes to `body` in place (in at most two pieces) until it takes fewer
  /// than it was given; drops what it took and returns how many bytes that was.
  public mutating func consume(_ body: (Span<UInt8>) -> Int) -> Int {
    readable.consume(body)
  }

  /// Drops up to `length` readable bytes without copying them (a discard service); returns
  /// how many.
  @discardableResult
  public mutating func discard(_ length: Int) -> Int {
    let dropped = min(length, readable.count)
    readable.removeFirst(dropped)
    return dropped
  }

  /// Whether the out-of-order data already covers `range` (offsets from RCV.NXT).
  public func holds(_ range: Range<Int>) -> Bool {
    outOfOrder.holds((nextPosition + range.lowerBound)..<(nextPosition + range.upperBound))
  }

  /// The out-of-order data as offsets from RCV.NXT, sorted, touching pieces merged.
  public var outOfOrderRanges: [Range<Int>] {
    outOfOrder.ranges.map { ($0.lowerBound - nextPosition)..<($0.upperBound - nextPosition) }
  }

  /// The out-of-order ranges as sequence numbers, for SACK blocks.
  public func outOfOrderBlocks(after receiveNext: SequenceNumber) -> [SACKBlock] {
    outOfOrderRanges.map {
      SACKBlock(left: receiveNext + $0.lowerBound, right: receiveNext + $0.upperBound)
    }
  }

  /// Drops every out-of-order byte (under memory pressure: it is the cheapest data to lose,
  /// the sender still has it); returns how many.
  @discardableResult
  public mutating func pruneOutOfOrder() -> Int {
    outOfOrder.removeAll()
  }

  /// Gives back storage the readable bytes no longer need.
  public mutating func shrinkToFit() {
    readable.shrinkToFit()
  }
}
