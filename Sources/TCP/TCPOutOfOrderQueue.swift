import NetCore

/// Received data that arrived ahead of a gap (RFC 9293 §3.10.7.4 "seventh": segments beyond
/// RCV.NXT are held until the gap before them fills), as pieces that cost the bytes that
/// arrived: one byte at the far edge of a 4 MiB window costs one piece of a few bytes, not a
/// ring reserved up to that sequence number.
///
/// Positions are offsets in the received byte stream (0 is the first byte after the peer's
/// SYN), so they never wrap. Pieces are sorted and disjoint; a piece that continues the one
/// before it is appended to it, so data arriving in order behind a gap stays one piece. The
/// number of pieces is bounded (``maximumPieces``), and each piece's storage is charged to the
/// memory budget as ``MemoryBudget/Use/tcpOutOfOrder``.
struct TCPOutOfOrderQueue: ~Copyable {
  struct Piece {
    var start: Int
    var bytes: [UInt8]
    /// What its storage is charged: the capacity asked for, and ``pieceOverhead``.
    var charge: Int
    var end: Int { start + bytes.count }
  }

  /// The pieces, sorted by position; they never overlap but may touch.
  private(set) var pieces: [Piece] = []
  /// Bytes held.
  private(set) var byteCount = 0
  /// Bytes charged to the budget.
  private(set) var charged = 0
  let budget: MemoryBudget

  /// The most pieces held; data that would need another is dropped.
  static let maximumPieces = 64
  /// What a piece costs beyond its bytes: its entry, the array header, the allocator's own.
  static let pieceOverhead = 96

  init(budget: MemoryBudget) { self.budget = budget }

  deinit {
    if charged > 0 { budget.release(charged, for: .tcpOutOfOrder) }
  }

  var isEmpty: Bool { pieces.isEmpty }

  /// What became of data offered to ``insert(_:at:)``.
  enum InsertOutcome: Equatable {
    /// Every byte that was not already held is held now.
    case stored
    /// Some or all bytes were dropped: they would have needed more pieces than allowed.
    case droppedPieceLimit
    /// Some or all bytes were dropped: the memory budget refused them.
    case droppedMemory
  }

  /// Holds the bytes of `data` (which starts at stream position `position`) that no piece holds
  /// yet.
  mutating func insert(_ data: Span<UInt8>, at position: Int) -> InsertOutcome {
    let end = position + data.count
    var outcome = InsertOutcome.stored
    var cursor = position
    var index = firstIndex(endingAfter: position)
    while cursor < end {
      // The gap from `cursor` to the next piece (or to the end of the data).
      let nextStart = index < pieces.count ? pieces[index].start : Int.max
      if nextStart <= cursor {
        cursor = max(cursor, pieces[index].end)
        index += 1
        continue
      }
      let gapEnd = min(end, nextStart)
      let piece = data.extracting((cursor - position)..<(gapEnd - position))
      if index > 0 && pieces[index - 1].end == cursor {
        // Continues the piece before it: append.
        guard grow(index - 1, by: piece) else { return .droppedMemory }
      } else {
        guard pieces.count < TCPOutOfOrderQueue.maximumPieces else {
          outcome = .droppedPieceLimit
          cursor = gapEnd
          continue
        }
        guard let made = makePiece(piece, at: cursor) else { return .droppedMemory }
        pieces.insert(made, at: index)
        index += 1
      }
      byteCount += gapEnd - cursor
      cursor = gapEnd
    }
    return outcome
  }

  /// The held bytes from `position` on, if the first piece reaches back to `position` (the
  /// gap before it has filled). Read them, then ``removeAll(before:)`` what was taken.
  func contiguousBytes(from position: Int) -> ArraySlice<UInt8>? {
    guard let first = pieces.first, first.start <= position, position < first.end else {
      return nil
    }
    return first.bytes[(position - first.start)...]
  }

  /// Forgets every byte before stream position `position` (it was received in order).
  mutating func removeAll(before position: Int) {
    while let first = pieces.first, first.start < position {
      if first.end <= position {
        removeFirstPiece()
        continue
      }
      // A piece the in-order data reached into: keep its tail.
      let kept = Array(first.bytes[(position - first.start)...])
      let charge = kept.count + TCPOutOfOrderQueue.pieceOverhead
      byteCount -= first.bytes.count - kept.count
      pieces[0] = Piece(start: position, bytes: kept, charge: charge)
      release(first.charge - charge)
      break
    }
  }

  /// Drops every piece (SACK reneging, RFC 2018 §8: the sender keeps what it sent until it is
  /// acknowledged cumulatively); returns the bytes dropped.
  @discardableResult
  mutating func removeAll() -> Int {
    let dropped = byteCount
    pieces = []
    byteCount = 0
    if charged > 0 { release(charged) }
    return dropped
  }

  /// The held data as ranges of stream positions, touching pieces merged (for SACK blocks).
  var ranges: [Range<Int>] {
    var merged: [Range<Int>] = []
    for piece in pieces {
      if let last = merged.last, last.upperBound == piece.start {
        merged[merged.count - 1] = last.lowerBound..<piece.end
      } else {
        merged.append(piece.start..<piece.end)
      }
    }
    return merged
  }

  /// The number of ``ranges``, without building them.
  var rangeCount: Int {
    var count = 0
    var previousEnd = -1
    for piece in pieces {
      if piece.start != previousEnd { count += 1 }
      previousEnd = piece.end
    }
    return count
  }

  /// Whether every byte of `range` (stream positions) is held.
  func holds(_ range: Range<Int>) -> Bool {
    var cursor = range.lowerBound
    for piece in pieces where piece.end > cursor {
      guard piece.start <= cursor else { return false }
      cursor = piece.end
      if cursor >= range.upperBound { return true }
    }
    return range.isEmpty
  }

  // MARK: Storage and its charge

  /// The index of the first piece that ends after `position`.
  private func firstIndex(endingAfter position: Int) -> Int {
    var low = 0
    var high = pieces.count
    while low < high {
      let middle = (low + high) / 2
      if pieces[middle].end <= position { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// A new piece holding `bytes` from stream position `start`, charged; nil if the budget
  /// refuses it.
  private mutating func makePiece(_ bytes: Span<UInt8>, at start: Int) -> Piece? {
    let charge = bytes.count + TCPOutOfOrderQueue.pieceOverhead
    guard budget.reserve(charge, for: .tcpOutOfOrder) else { return nil }
    charged += charge
    var storage = [UInt8]()
    storage.reserveCapacity(bytes.count)
    bytes.withUnsafeBufferPointer { storage.append(contentsOf: $0) }
    return Piece(start: start, bytes: storage, charge: charge)
  }

  /// Appends `bytes` to piece `index`, doubling its storage as needed; false if the budget
  /// refuses the growth.
  private mutating func grow(_ index: Int, by bytes: Span<UInt8>) -> Bool {
    let needed = pieces[index].bytes.count + bytes.count
    if needed + TCPOutOfOrderQueue.pieceOverhead > pieces[index].charge {
      let capacity = max(needed, 2 * (pieces[index].charge - TCPOutOfOrderQueue.pieceOverhead))
      let charge = capacity + TCPOutOfOrderQueue.pieceOverhead
      guard budget.reserve(charge - pieces[index].charge, for: .tcpOutOfOrder) else {
        return false
      }
      charged += charge - pieces[index].charge
      pieces[index].charge = charge
      pieces[index].bytes.reserveCapacity(capacity)
    }
    bytes.withUnsafeBufferPointer { pieces[index].bytes.append(contentsOf: $0) }
    return true
  }

  private mutating func removeFirstPiece() {
    let piece = pieces.removeFirst()
    byteCount -= piece.bytes.count
    release(piece.charge)
  }

  private mutating func release(_ bytes: Int) {
    budget.release(bytes, for: .tcpOutOfOrder)
    charged -= bytes
  }
}
