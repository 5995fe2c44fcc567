/// What the receiver has reported holding above SND.UNA, from its SACK blocks: the sender's
/// scoreboard of RFC 6675 §3, used to decide what is lost and what to retransmit.
///
/// Ranges are kept sorted, disjoint, inside `[SND.UNA, SND.MAX]`, and bounded in number.
public struct SACKScoreboard: Sendable {
  /// SACKed ranges, lowest first.
  public private(set) var blocks: [SACKBlock] = []
  /// The most ranges kept (a receiver sends at most 4 blocks per segment; holes beyond this
  /// many are simply not tracked).
  public static let maximumBlocks = 64

  public init() {}

  public var isEmpty: Bool { blocks.isEmpty }

  /// Bytes SACKed in all.
  public var sackedBytes: Int { blocks.reduce(0) { $0 + ($1.right - $1.left) } }

  /// Adds the blocks of an arriving acknowledgment; blocks outside `[unacknowledged, sent)`
  /// or empty are ignored (RFC 2018 §8 has D-SACK and stale blocks below SND.UNA).
  public mutating func add(
    _ received: [SACKBlock], unacknowledged: SequenceNumber, sent: SequenceNumber
  ) {
    for block in received {
      guard unacknowledged < block.right, block.left < block.right, block.right <= sent else {
        continue
      }
      let left = max(block.left, unacknowledged)
      insert(SACKBlock(left: left, right: block.right))
    }
  }

  /// Forgets everything below the new SND.UNA.
  public mutating func acknowledge(upTo unacknowledged: SequenceNumber) {
    var kept: [SACKBlock] = []
    for block in blocks where unacknowledged < block.right {
      kept.append(SACKBlock(left: max(block.left, unacknowledged), right: block.right))
    }
    blocks = kept
  }

  /// Forgets everything (after a retransmission timeout, RFC 2018 §8).
  public mutating func clear() { blocks.removeAll() }

  /// Whether `sequence` lies in a SACKed range.
  public func isSacked(_ sequence: SequenceNumber) -> Bool {
    blocks.contains { $0.left <= sequence && sequence < $0.right }
  }

  /// Bytes SACKed above `sequence`.
  public func sackedBytes(above sequence: SequenceNumber) -> Int {
    blocks.reduce(0) { total, block in
      guard sequence < block.right else { return total }
      return total + (block.right - max(block.left, sequence + 1))
    }
  }

  /// RFC 6675 §4 IsLost: DupThresh (3) discontiguous SACKed ranges above `sequence`, or more
  /// than (DupThresh − 1) × SMSS bytes SACKed above it.
  public func isLost(_ sequence: SequenceNumber, maximumSegmentSize: Int) -> Bool {
    let rangesAbove = blocks.reduce(0) { $0 + (sequence < $1.left ? 1 : 0) }
    return rangesAbove >= 3 || sackedBytes(above: sequence) > 2 * maximumSegmentSize
  }

  /// The first byte at or after `start` and before `end` that is not SACKed, and how many
  /// unSACKed bytes follow it (up to the next SACKed range or `end`).
  public func nextHole(from start: SequenceNumber, before end: SequenceNumber) -> (
    SequenceNumber, Int
  )? {
    var position = start
    for block in blocks {
      if block.right <= position { continue }
      if position < block.left {
        let holeEnd = block.left < end ? block.left : end
        return position < holeEnd ? (position, holeEnd - position) : nil
      }
      position = block.right
    }
    return position < end ? (position, end - position) : nil
  }

  /// The highest SACKed sequence number (the right edge of the last block).
  public var highestSacked: SequenceNumber? { blocks.last?.right }

  private mutating func insert(_ block: SACKBlock) {
    var merged = block
    var result: [SACKBlock] = []
    result.reserveCapacity(blocks.count + 1)
    var placed = false
    for existing in blocks {
      if existing.right < merged.left {
        result.append(existing)
      } else if merged.right < existing.left {
        if !placed {
          result.append(merged)
          placed = true
        }
        result.append(existing)
      } else {
        merged = SACKBlock(
          left: min(existing.left, merged.left), right: max(existing.right, merged.right))
      }
    }
    if !placed { result.append(merged) }
    if result.count > SACKScoreboard.maximumBlocks {
      result.removeLast(result.count - SACKScoreboard.maximumBlocks)
    }
    blocks = result
  }
}
