import NetCore

/// Received bytes waiting for the application, and bytes that arrived out of order, in one
/// ring (RFC 9293 §3.10.7.4 "seventh, process the segment text"; the design of smoltcp's
/// assembler over its socket buffer).
///
/// The ring starts at RCV.NXT minus what the application has not yet read. Data at RCV.NXT
/// extends the readable part; data further on is written at its place in the ring and its
/// range remembered, so that when the gap fills the readable part jumps forward without a
/// copy. Memory is bounded by the window (`limit`) and the number of out-of-order ranges.
public struct TCPReceiveBuffer: Sendable {
  private var storage: [UInt8] = []
  private var head = 0
  /// Bytes the application can read.
  public private(set) var count = 0
  /// The most bytes held, readable and out-of-order together: the receive window's ceiling.
  public var limit: Int
  /// Out-of-order ranges as offsets from the end of the readable bytes (RCV.NXT), sorted,
  /// disjoint and not touching.
  public private(set) var outOfOrder: [Range<Int>] = []
  /// The most out-of-order ranges kept; a segment that would need another is dropped.
  public static let maximumRanges = 32
  /// Rings up to this size are freed when they empty; larger ones (a bulk transfer) are kept.
  static let keptCapacity = 16384

  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  /// Space for data beyond RCV.NXT: the receive window.
  public var window: Int { limit - count }
  /// Bytes of storage allocated.
  public var capacity: Int { storage.count }
  /// Bytes held out of order.
  public var outOfOrderBytes: Int { outOfOrder.reduce(0) { $0 + $1.count } }

  /// Stores `bytes` received `offset` bytes after RCV.NXT (clipped to the window). Returns how
  /// far RCV.NXT moves, or nil if the data was dropped because it would need too many
  /// out-of-order ranges.
  public mutating func write(_ bytes: Span<UInt8>, at offset: Int) -> Int? {
    precondition(offset >= 0)
    let end = min(offset + bytes.count, window)
    guard end > offset else { return 0 }
    let range = offset..<end
    if offset > 0 && !canRecord(range) { return nil }
    reserve(count + end)
    let capacity = storage.count
    let start = (head + count + offset) & (capacity - 1)
    let length = range.count
    let firstPart = min(length, capacity - start)
    storage.withUnsafeMutableBufferPointer { target in
      bytes.withUnsafeBufferPointer { source in
        (target.baseAddress! + start).update(from: source.baseAddress!, count: firstPart)
        if length > firstPart {
          target.baseAddress!.update(
            from: source.baseAddress! + firstPart, count: length - firstPart)
        }
      }
    }
    record(range)
    // The readable part grows by whatever range now starts at offset 0.
    guard let first = outOfOrder.first, first.lowerBound == 0 else { return 0 }
    let advance = first.count
    outOfOrder.removeFirst()
    for index in outOfOrder.indices {
      outOfOrder[index] =
        (outOfOrder[index].lowerBound - advance)..<(outOfOrder[index].upperBound - advance)
    }
    count += advance
    return advance
  }

  /// Copies up to `destination.count` readable bytes out and drops them; returns how many.
  public mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
    let length = min(destination.count, count)
    guard length > 0 else { return 0 }
    let capacity = storage.count
    let firstPart = min(length, capacity - head)
    storage.withUnsafeBufferPointer { source in
      destination.baseAddress!.copyMemory(from: source.baseAddress! + head, byteCount: firstPart)
      if length > firstPart {
        (destination.baseAddress! + firstPart).copyMemory(
          from: source.baseAddress!, byteCount: length - firstPart)
      }
    }
    discard(length)
    return length
  }

  /// Drops up to `length` readable bytes without copying them (a discard service); returns
  /// how many.
  @discardableResult
  public mutating func discard(_ length: Int) -> Int {
    let dropped = min(length, count)
    count -= dropped
    if count == 0 && outOfOrder.isEmpty && storage.count <= TCPReceiveBuffer.keptCapacity {
      // Idle connections hold no memory; a busy one keeps its large ring.
      storage = []
      head = 0
    } else if dropped > 0 {
      head = (head + dropped) & (storage.count - 1)
    }
    return dropped
  }

  /// Whether the out-of-order data already covers `range` (offsets from RCV.NXT).
  public func holds(_ range: Range<Int>) -> Bool {
    outOfOrder.contains { $0.lowerBound <= range.lowerBound && range.upperBound <= $0.upperBound }
  }

  /// The out-of-order ranges as sequence numbers, for SACK blocks.
  public func outOfOrderBlocks(after receiveNext: SequenceNumber) -> [SACKBlock] {
    outOfOrder.map {
      SACKBlock(left: receiveNext + $0.lowerBound, right: receiveNext + $0.upperBound)
    }
  }

  /// Whether recording `range` keeps within the range limit.
  private func canRecord(_ range: Range<Int>) -> Bool {
    if outOfOrder.count < TCPReceiveBuffer.maximumRanges { return true }
    // Full: only a range that touches or overlaps an existing one adds nothing.
    return outOfOrder.contains {
      $0.lowerBound <= range.upperBound && range.lowerBound <= $0.upperBound
    }
  }

  /// Merges `range` into the sorted list of held ranges.
  private mutating func record(_ range: Range<Int>) {
    var merged = range
    var result: [Range<Int>] = []
    result.reserveCapacity(outOfOrder.count + 1)
    var inserted = false
    for existing in outOfOrder {
      if existing.upperBound < merged.lowerBound {
        result.append(existing)
      } else if merged.upperBound < existing.lowerBound {
        if !inserted {
          result.append(merged)
          inserted = true
        }
        result.append(existing)
      } else {
        merged =
          min(existing.lowerBound, merged.lowerBound)..<max(existing.upperBound, merged.upperBound)
      }
    }
    if !inserted { result.append(merged) }
    outOfOrder = result
  }

  /// Grows the ring (a power of two, at least 4 KiB) to hold `needed` bytes from the head.
  private mutating func reserve(_ needed: Int) {
    guard needed > storage.count else { return }
    var capacity = max(4096, storage.count)
    while capacity < needed { capacity *= 2 }
    var grown = [UInt8](repeating: 0, count: capacity)
    let old = storage.count
    if old > 0 {
      // Copy everything from the head on: readable bytes and any out-of-order data after them.
      let held = min(old, count + (outOfOrder.last?.upperBound ?? 0))
      let firstPart = min(held, old - head)
      grown.withUnsafeMutableBufferPointer { target in
        storage.withUnsafeBufferPointer { source in
          target.baseAddress!.update(from: source.baseAddress! + head, count: firstPart)
          if held > firstPart {
            (target.baseAddress! + firstPart).update(
              from: source.baseAddress!, count: held - firstPart)
          }
        }
      }
    }
    storage = grown
    head = 0
  }
}
