import NetCore
import Testing

/// The free lists of sent frames' buffers: reuse, sizes, bounds, and never a buffer that
/// something else still holds.
struct PacketBufferPoolTests {
  @Test func aWrittenBufferIsHandedOutAgainEmptyWithTheAskedHeadroom() {
    var pool = PacketBufferPool()
    var first = pool.take(capacity: 300, headroom: 160)
    #expect(first.capacity == PacketBufferPool.smallCapacity)
    first.append(100)
    first.offload = .checksum(start: 20, checksumOffset: 16)
    let identity = ObjectIdentifier(first)
    pool.recycle(&first)
    #expect(pool.count == 1)
    let second = pool.take(capacity: 1700, headroom: 100)
    #expect(ObjectIdentifier(second) == identity)
    #expect(second.count == 0 && second.headroom == 100 && second.offload == .none)
    #expect(pool.reused == 1 && pool.allocated == 1 && pool.count == 0)
  }

  @Test func sizesGoToTheirOwnListAndLargerRequestsAreNotPooled() {
    var pool = PacketBufferPool()
    var large = pool.take(capacity: 65_300)
    #expect(large.capacity == PacketBufferPool.largeCapacity)
    var huge = pool.take(capacity: PacketBufferPool.largeCapacity + 1)
    #expect(huge.capacity == PacketBufferPool.largeCapacity + 1)
    var exact = PacketBuffer(capacity: 500)
    pool.recycle(&large)
    pool.recycle(&huge)
    pool.recycle(&exact)
    #expect(pool.count == 1)
    // A small request does not take the large buffer.
    #expect(pool.take(capacity: 400).capacity == PacketBufferPool.smallCapacity)
    #expect(pool.count == 1)
    #expect(pool.take(capacity: 20_000).capacity == PacketBufferPool.largeCapacity)
    #expect(pool.count == 0)
  }

  @Test func aBufferSomethingElseHoldsIsNotTakenBack() {
    var pool = PacketBufferPool()
    var buffer = pool.take(capacity: 300)
    let capture = buffer  // a capture or a queue still holds the frame
    pool.recycle(&buffer)
    #expect(pool.count == 0)
    _ = capture
  }

  @Test func theFreeListsAreBounded() {
    var pool = PacketBufferPool(smallLimit: 2, largeLimit: 1)
    var buffers = (0..<3).map { _ in pool.take(capacity: 300) }
    buffers += (0..<2).map { _ in pool.take(capacity: 10_000) }
    for index in buffers.indices {
      var buffer = buffers[index]
      buffers[index] = PacketBuffer(capacity: 1, headroom: 0)
      pool.recycle(&buffer)
    }
    #expect(pool.count == 3)
    var counters: [String: UInt64] = [:]
    pool.forEachCounter { counters[$0.description] = $1 }
    #expect(counters == ["reused": 0, "allocated": 5, "free": 3])
  }
}
