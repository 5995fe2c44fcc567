import NetCore
import Testing

@testable import TCP

/// The send buffer: a ring of unacknowledged bytes, read by offset from SND.UNA, grown on
/// demand within the limit its connection sets and the memory budget, emptied from the front
/// by acknowledgments.
struct TCPSendBufferTests {
  func contents(_ buffer: borrowing TCPSendBuffer, offset: Int = 0, length: Int? = nil) -> [UInt8] {
    let length = length ?? buffer.count - offset
    var bytes = [UInt8](repeating: 0xEE, count: length + 2)
    var span = bytes.mutableSpan
    buffer.copy(offset: offset, length: length, into: &span, at: 1)
    #expect(bytes.first == 0xEE && bytes.last == 0xEE)  // nothing written outside
    return Array(bytes[1..<(1 + length)])
  }

  @Test func appendTakesWhatFitsTheLimit() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    let empty = buffer.isEmpty
    #expect(empty)
    #expect(buffer.append(pattern(600).span, limit: 1000) == 600)
    #expect(buffer.append(pattern(600, from: 600).span, limit: 1000) == 400)
    #expect(buffer.count == 1000)
    #expect(buffer.append(pattern(1).span, limit: 1000) == 0)
    #expect(contents(buffer) == pattern(1000))
    // A limit below what is held takes nothing.
    #expect(buffer.append(pattern(1).span, limit: 500) == 0)
  }

  @Test func copyReadsAnyRangeByOffset() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    _ = buffer.append(pattern(5000).span, limit: 10000)
    #expect(contents(buffer, offset: 1460, length: 1460) == pattern(1460, from: 1460))
    #expect(contents(buffer, offset: 4999, length: 1) == pattern(1, from: 4999))
    #expect(contents(buffer, offset: 0, length: 0) == [])
  }

  @Test func acknowledgedBytesLeaveTheFrontAndTheRingWraps() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    _ = buffer.append(pattern(4000).span, limit: 4096)
    #expect(buffer.capacity == 4096)
    buffer.removeFirst(3500)
    #expect(contents(buffer) == pattern(500, from: 3500))
    // 3500 more: the tail wraps past the end of the 4 KiB ring.
    #expect(buffer.append(pattern(3500, from: 4000).span, limit: 4096) == 3500)
    #expect(buffer.capacity == 4096)
    #expect(contents(buffer) == pattern(4000, from: 3500))
    #expect(contents(buffer, offset: 1000, length: 1000) == pattern(1000, from: 4500))
  }

  @Test func growingKeepsAWrappedRingInOrder() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    _ = buffer.append(pattern(4000).span, limit: 1 << 20)
    buffer.removeFirst(3900)
    _ = buffer.append(pattern(3000, from: 4000).span, limit: 1 << 20)  // wraps
    _ = buffer.append(pattern(10000, from: 7000).span, limit: 1 << 20)  // grows
    #expect(buffer.capacity == 13312)  // what is needed, in whole KiB
    #expect(contents(buffer) == pattern(13100, from: 3900))
  }

  @Test func anEmptyBufferHoldsNoMemory() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    _ = buffer.append(pattern(20000).span, limit: 1 << 20)
    #expect(budget.used(for: .tcpSend) == buffer.charged)
    #expect(buffer.charged >= 20000)
    buffer.removeFirst(20000)
    #expect(buffer.capacity == 0)
    #expect(budget.used == 0)
  }

  @Test func aLargeRingIsKeptWhenItEmptiesUntilShrunk() {
    // A bulk sender empties its ring on every acknowledgment of all it sent; growing the ring
    // back from nothing each time is what halved bulk-out in scripts/bench.
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    _ = buffer.append(pattern(200_000).span, limit: 1 << 20)
    let capacity = buffer.capacity
    #expect(capacity > ByteRing.keptWhenEmpty)
    buffer.removeFirst(200_000)
    #expect(buffer.capacity == capacity)
    #expect(budget.used == buffer.charged)
    _ = buffer.append(pattern(150_000, from: 7).span, limit: 1 << 20)
    #expect(buffer.capacity == capacity)  // no new storage for the next round
    #expect(contents(buffer) == pattern(150_000, from: 7))
    buffer.removeFirst(150_000)
    buffer.shrinkToFit()  // what TCP does under memory pressure
    #expect(buffer.capacity == 0)
    #expect(budget.used == 0)
  }

  @Test func shrinkingGivesBackWhatASparseRingHolds() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    _ = buffer.append(pattern(60000).span, limit: 1 << 20)
    #expect(buffer.capacity == 60416)
    buffer.removeFirst(58000)
    buffer.shrinkToFit()
    #expect(buffer.capacity == 4096)  // the smallest that holds 2000 bytes with room to spare
    #expect(budget.used == buffer.charged)
    #expect(contents(buffer) == pattern(2000, from: 58000))
  }

  @Test func theBudgetBoundsGrowth() {
    let budget = MemoryBudget(limit: MemoryBudget.minimumLimit)
    #expect(budget.reserve(budget.limit - 5000, for: .udpQueues))
    var buffer = TCPSendBuffer(budget: budget)
    // 6 KiB of ring (and its overhead) would not fit in the 5000 bytes left; half of the
    // growth, 3 KiB, does.
    #expect(buffer.append(pattern(6000).span, limit: 1 << 20) == 3072)
    #expect(budget.used <= budget.limit)
  }

  // MARK: Held arrays and filling in place (issue 15: one copy each way)

  @Test func aHeldArrayIsKeptNotCopiedAndReadInOrderWithCopiedBytes() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    let big = pattern(40000, from: 100)
    #expect(buffer.append(pattern(100).span, limit: 1 << 20) == 100)
    #expect(buffer.append(holding: big[...], limit: 1 << 20) == .held(40000))
    #expect(buffer.append(pattern(60, from: 40100).span, limit: 1 << 20) == 60)
    #expect(buffer.count == 40160)
    #expect(buffer.runCount == 3)
    // The ring holds only the copied bytes; the held array is charged for its bytes.
    #expect(buffer.capacity == 1024)
    #expect(budget.used(for: .tcpSend) == buffer.charged)
    #expect(buffer.charged == 1024 + 40000 + 2 * ByteRing.allocationOverhead)
    #expect(contents(buffer) == pattern(40160))
    // Pieces across run boundaries.
    #expect(contents(buffer, offset: 50, length: 1460) == pattern(1460, from: 50))
    #expect(contents(buffer, offset: 40000, length: 160) == pattern(160, from: 40000))
  }

  @Test func acknowledgmentsDropHeldBytesAndGiveTheirChargeBack() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    _ = buffer.append(holding: pattern(20000)[...], limit: 1 << 20)
    _ = buffer.append(pattern(500, from: 20000).span, limit: 1 << 20)
    _ = buffer.append(holding: pattern(30000, from: 20500)[...], limit: 1 << 20)
    buffer.removeFirst(19000)  // inside the first held array
    #expect(contents(buffer) == pattern(31500, from: 19000))
    #expect(budget.used(for: .tcpSend) == buffer.charged)
    buffer.removeFirst(1200)  // past it, into the copied run
    #expect(buffer.runCount == 2)
    #expect(contents(buffer) == pattern(30300, from: 20200))
    buffer.removeFirst(30300)
    #expect(buffer.isEmpty && buffer.runCount == 0)
    #expect(buffer.charged == 0 && budget.used == 0)
  }

  @Test func aShortHeldWriteIsCopied() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    let bytes = pattern(TCPSendBuffer.minimumHeld - 1)
    #expect(buffer.append(holding: bytes[...], limit: 1 << 20) == .copied(bytes.count))
    // The limit can cut a long array short of the minimum: that part is copied too...
    #expect(buffer.append(holding: pattern(40000)[...], limit: bytes.count + 100) == .copied(100))
    #expect(buffer.runCount == 1)
    #expect(contents(buffer) == bytes + pattern(100))
    // ...unless the minimum is queued already: then the write waits for more room.
    #expect(buffer.append(pattern(1).span, limit: 1 << 20) == 1)
    #expect(buffer.count == TCPSendBuffer.minimumHeld + 100)
    #expect(buffer.append(holding: pattern(40000)[...], limit: buffer.count + 100) == .deferred)
    #expect(
      buffer.append(holding: pattern(40000)[...], limit: buffer.count + 20000) == .held(20000))
  }

  @Test func aHeldArrayStaysAsItWasWhenTheApplicationChangesIt() {
    var buffer = TCPSendBuffer(budget: MemoryBudget())
    var bytes = pattern(20000)
    _ = buffer.append(holding: bytes[...], limit: 1 << 20)
    bytes[0] = 0xFF  // copy-on-write: the application's change makes its own copy
    #expect(contents(buffer) == pattern(20000))
  }

  @Test func aHeldArrayOverTheBudgetIsCopiedAsFarAsTheBudgetAllows() {
    let budget = MemoryBudget(limit: MemoryBudget.minimumLimit)
    #expect(budget.reserve(budget.limit - 30000, for: .udpQueues))
    var buffer = TCPSendBuffer(budget: budget)
    let outcome = buffer.append(holding: pattern(40000)[...], limit: 1 << 20)
    #expect(outcome == .copied(outcome.taken) && outcome.taken < 30000)
    #expect(budget.used <= budget.limit)
    #expect(contents(buffer) == pattern(outcome.taken))
  }

  @Test func fillWritesStraightIntoTheRingsFreeSpace() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    // A 69 KiB ring (kept when it empties) holding 1000 bytes from 69000 on: its free space
    // is 656 bytes after the tail, then 69000 from the start.
    _ = buffer.append(pattern(70000).span, limit: 1 << 20)
    #expect(buffer.capacity == 70656)
    buffer.removeFirst(69000)
    var offered: [Int] = []
    var next = 70000
    for _ in 0..<2 {
      let written = buffer.fill(upTo: 100_000, limit: 70656) { space in
        offered.append(space.count)
        for index in 0..<space.count { space[index] = UInt8((next + index) % 251) }
        next += space.count
        return space.count
      }
      #expect(written == offered.last)
    }
    #expect(offered == [656, 69000])
    #expect(buffer.capacity == 70656)  // filled in place, never grown or moved
    #expect(contents(buffer) == pattern(70656, from: 69000))
    // A full buffer offers nothing; the limit bounds what is offered.
    #expect(
      buffer.fill(upTo: 10, limit: 70656) { _ in
        Issue.record("called")
        return 0
      } == 0)
    buffer.removeFirst(70656)
    #expect(buffer.fill(upTo: 100, limit: 40) { $0.count } == 40)
    #expect(budget.used(for: .tcpSend) == buffer.charged)
  }

  @Test func fillTakesOnlyWhatTheBodyWrote() {
    let budget = MemoryBudget()
    var buffer = TCPSendBuffer(budget: budget)
    #expect(buffer.fill(upTo: 5000, limit: 1 << 20) { _ in 0 } == 0)
    #expect(buffer.isEmpty && budget.used == 0)
    #expect(
      buffer.fill(upTo: 5000, limit: 1 << 20) { space in
        space[0] = 42
        return 1
      } == 1)
    #expect(contents(buffer) == [42])
  }
}
