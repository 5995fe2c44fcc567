import NetCore
import Testing

@testable import TCP

/// The receive buffer: readable bytes in a ring, out-of-order data in pieces that cost what
/// arrived, both charged to the memory budget (RFC 9293 §3.10.7.4 "seventh").
struct TCPReceiveBufferTests {
  func read(_ buffer: inout TCPReceiveBuffer, _ maximum: Int = 1 << 20) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: maximum)
    let count = bytes.withUnsafeMutableBytes { buffer.read(into: $0) }
    return Array(bytes.prefix(count))
  }

  func advance(_ outcome: TCPReceiveBuffer.WriteOutcome) -> Int { outcome.advance }

  @Test func inOrderDataIsReadable() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    #expect(advance(buffer.write(pattern(100).span, at: 0)) == 100)
    #expect(buffer.count == 100)
    #expect(buffer.window == 9900)
    #expect(read(&buffer, 60) == pattern(60))
    #expect(read(&buffer) == pattern(40, from: 60))
    #expect(buffer.window == 10000)
    #expect(read(&buffer) == [])
  }

  @Test func outOfOrderDataWaitsForTheGap() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    #expect(advance(buffer.write(pattern(100, from: 200).span, at: 200)) == 0)
    #expect(advance(buffer.write(pattern(100, from: 400).span, at: 400)) == 0)
    #expect(buffer.outOfOrderRanges == [200..<300, 400..<500])
    #expect(buffer.outOfOrderBytes == 200)
    #expect(buffer.count == 0)
    // Filling [0, 200) makes [0, 300) readable at once.
    #expect(advance(buffer.write(pattern(200).span, at: 0)) == 300)
    #expect(buffer.outOfOrderRanges == [100..<200])  // now relative to the new RCV.NXT
    #expect(advance(buffer.write(pattern(100, from: 300).span, at: 0)) == 200)
    #expect(buffer.outOfOrderRanges == [])
    #expect(read(&buffer) == pattern(500))
  }

  @Test func rangesMergeWhenTheyOverlapOrTouch() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    _ = buffer.write(pattern(100, from: 100).span, at: 100)
    _ = buffer.write(pattern(100, from: 300).span, at: 300)
    _ = buffer.write(pattern(100, from: 200).span, at: 200)  // touches both
    #expect(buffer.outOfOrderRanges == [100..<400])
    _ = buffer.write(pattern(200, from: 350).span, at: 350)  // overlaps the end
    #expect(buffer.outOfOrderRanges == [100..<550])
    _ = buffer.write(pattern(50, from: 120).span, at: 120)  // inside
    #expect(buffer.outOfOrderRanges == [100..<550])
    #expect(buffer.outOfOrderBytes == 450)
    let holdsMiddle = buffer.holds(150..<300)
    let holdsBefore = buffer.holds(50..<150)
    #expect(holdsMiddle)
    #expect(!holdsBefore)
    #expect(advance(buffer.write(pattern(100).span, at: 0)) == 550)
    #expect(read(&buffer) == pattern(550))
  }

  @Test func pieceLimitDropsANewDisjointPiece() {
    var buffer = TCPReceiveBuffer(limit: 1 << 20, budget: MemoryBudget())
    for index in 0..<TCPOutOfOrderQueue.maximumPieces {
      #expect(buffer.write(pattern(10).span, at: 100 + 100 * index) == .init(advance: 0))
    }
    #expect(buffer.outOfOrderRangeCount == TCPOutOfOrderQueue.maximumPieces)
    // Another disjoint piece would need another record: dropped.
    let dropped = buffer.write(pattern(10).span, at: 50).droppedForPieceLimit
    #expect(dropped)
    // One that continues an existing piece adds no record.
    #expect(buffer.write(pattern(10).span, at: 110) == .init(advance: 0))
    #expect(buffer.outOfOrderRanges.first == 100..<120)
    // In-order data is always taken.
    #expect(advance(buffer.write(pattern(10).span, at: 0)) == 10)
  }

  @Test func dataBeyondTheWindowIsClipped() {
    var buffer = TCPReceiveBuffer(limit: 1000, budget: MemoryBudget())
    #expect(advance(buffer.write(pattern(1500).span, at: 0)) == 1000)
    #expect(buffer.window == 0)
    #expect(advance(buffer.write(pattern(10).span, at: 0)) == 0)
    #expect(read(&buffer, 300) == pattern(300))
    #expect(buffer.window == 300)
    // Out of order, clipped to the window too.
    #expect(advance(buffer.write(pattern(500).span, at: 100)) == 0)
    #expect(buffer.outOfOrderRanges == [100..<300])
    #expect(advance(buffer.write(pattern(10).span, at: 300)) == 0)  // wholly beyond
    #expect(buffer.outOfOrderRanges == [100..<300])
  }

  /// The defect of the old design: one byte at the far edge of a large window reserved the
  /// whole window. Now it costs one small piece.
  @Test func oneByteAtTheWindowEdgeCostsOneSmallPiece() {
    let budget = MemoryBudget()
    var buffer = TCPReceiveBuffer(limit: 4 << 20, budget: budget)
    _ = buffer.write(pattern(1).span, at: (4 << 20) - 1)
    #expect(buffer.outOfOrderBytes == 1)
    #expect(budget.used < 256)
    #expect(budget.used(for: .tcpOutOfOrder) == budget.used)
  }

  @Test func outOfOrderDataWrittenInOrderBehindAGapStaysOnePiece() {
    var buffer = TCPReceiveBuffer(limit: 1 << 20, budget: MemoryBudget())
    for index in 0..<200 {
      _ = buffer.write(pattern(1000, from: 1000 * (index + 1)).span, at: 1000 * (index + 1))
    }
    #expect(buffer.outOfOrderRangeCount == 1)
    #expect(buffer.outOfOrderBytes == 200_000)
    #expect(advance(buffer.write(pattern(1000).span, at: 0)) == 201_000)
    let readable = read(&buffer)
    #expect(readable == pattern(201_000))
  }

  @Test func memoryIsChargedAndGivenBack() {
    let budget = MemoryBudget()
    do {
      var buffer = TCPReceiveBuffer(limit: 1 << 20, budget: budget)
      _ = buffer.write(pattern(3000).span, at: 0)
      _ = buffer.write(pattern(500).span, at: 5000)
      #expect(budget.used(for: .tcpReceive) >= 3000)
      #expect(budget.used(for: .tcpOutOfOrder) >= 500)
      #expect(buffer.charged == budget.used)
      #expect(buffer.pruneOutOfOrder() == 500)
      #expect(budget.used(for: .tcpOutOfOrder) == 0)
      _ = read(&buffer)
      #expect(budget.used(for: .tcpReceive) == 0)  // an empty ring is given back
      _ = buffer.write(pattern(100).span, at: 0)
    }
    // The buffer went away with 100 bytes in it: its charge went with it.
    #expect(budget.used == 0)
  }

  @Test func aFullBudgetDropsWhatDoesNotFit() {
    let budget = MemoryBudget(limit: MemoryBudget.minimumLimit)
    #expect(budget.reserve(budget.limit - 2000, for: .udpQueues))
    var buffer = TCPReceiveBuffer(limit: 1 << 20, budget: budget)
    // The ring's smallest storage (1 KiB and its overhead) fits; 4000 bytes do not.
    let outcome = buffer.write(pattern(4000).span, at: 0)
    #expect(outcome.advance == 1024)
    #expect(outcome.droppedForMemory == 4000 - 1024)
    #expect(buffer.write(pattern(3000).span, at: 5000).droppedForMemory == 3000)
    #expect(budget.used <= budget.limit)
    #expect(budget.refused >= 2)
  }

  @Test func outOfOrderDataIsRefusedWhenAsked() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    let outcome = buffer.write(pattern(100).span, at: 100, acceptOutOfOrder: false)
    #expect(outcome == .init(advance: 0, droppedForMemory: 100))
    let holdsNothing = !buffer.hasOutOfOrderData
    #expect(holdsNothing)
  }

  @Test func consumeHandsBytesOverInPlace() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    _ = buffer.write(pattern(3000).span, at: 0)
    var seen: [UInt8] = []
    let taken = buffer.consume { bytes in
      let take = min(bytes.count, 1000)
      for index in 0..<take { seen.append(bytes[index]) }
      return take
    }
    #expect(taken == 1000)
    #expect(seen == pattern(1000))
    #expect(read(&buffer) == pattern(2000, from: 1000))
  }

  @Test func discardDropsReadableBytes() {
    let budget = MemoryBudget()
    var buffer = TCPReceiveBuffer(limit: 10000, budget: budget)
    _ = buffer.write(pattern(100).span, at: 0)
    #expect(buffer.discard(30) == 30)
    #expect(read(&buffer) == pattern(70, from: 30))
    #expect(buffer.discard(10) == 0)
    #expect(budget.used == 0)  // an idle buffer holds no memory
  }

  @Test func blocksAreSequenceNumbersAfterReceiveNext() {
    var buffer = TCPReceiveBuffer(limit: 10000, budget: MemoryBudget())
    _ = buffer.write(pattern(100).span, at: 100)
    _ = buffer.write(pattern(100).span, at: 300)
    let next = SequenceNumber(0xFFFF_FFC0)
    #expect(
      buffer.outOfOrderBlocks(after: next) == [
        SACKBlock(left: next + 100, right: next + 200),
        SACKBlock(left: next + 300, right: next + 400),
      ])
  }
}
