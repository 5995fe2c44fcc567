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
}
