import NetCore
import Testing

/// The ring buffer behind every queue of the stack.
struct BoundedQueueTests {
  @Test func refusesElementsPastTheLimit() {
    var queue = BoundedQueue<Int>(limit: 3)
    #expect(queue.isEmpty && !queue.isFull && queue.first == nil)
    #expect(queue.append(1) == true)
    #expect(queue.append(2) == true)
    #expect(queue.append(3) == true)
    #expect(queue.isFull)
    #expect(queue.append(4) == false)
    #expect(queue.count == 3)
    #expect(queue.popFirst() == 1)
    #expect(queue.append(5) == true)
    #expect([queue.popFirst(), queue.popFirst(), queue.popFirst()] == [2, 3, 5])
    #expect(queue.popFirst() == nil)
    #expect(queue.isEmpty)
  }

  @Test func limitOfOne() {
    var queue = BoundedQueue<String>(limit: 1)
    #expect(queue.append("a") == true)
    #expect(queue.append("b") == false)
    #expect(queue.first == "a")
    #expect(queue.popFirst() == "a")
    #expect(queue.append("c") == true)
    #expect(queue.popFirst() == "c")
  }

  /// Growing while the ring has wrapped around must keep the order.
  @Test func growsAfterWrappingAround() {
    var queue = BoundedQueue<Int>(limit: 100)
    for value in 0..<4 { queue.append(value) }
    #expect(queue.popFirst() == 0)
    #expect(queue.popFirst() == 1)
    queue.append(4)
    queue.append(5)  // storage of 4 is full and wrapped: head is 2
    queue.append(6)  // grows
    for value in 7..<40 { queue.append(value) }
    var drained: [Int] = []
    while let value = queue.popFirst() { drained.append(value) }
    #expect(drained == Array(2..<40))
  }

  /// A long random mix of appends and pops behaves like an array-backed FIFO.
  @Test(arguments: [1, 2, 3, 5, 16, 100])
  func matchesAModelFIFO(limit: Int) {
    var random = PseudoRandomGenerator(seed: UInt64(limit))
    var queue = BoundedQueue<Int>(limit: limit)
    var model: [Int] = []
    for step in 0..<5000 {
      if random.next(below: 100) < 55 {
        let accepted = queue.append(step)
        #expect(accepted == (model.count < limit))
        if accepted { model.append(step) }
      } else {
        #expect(queue.popFirst() == (model.isEmpty ? nil : model.removeFirst()))
      }
      #expect(queue.count == model.count)
      #expect(queue.first == model.first)
      #expect(queue.isFull == (model.count == limit))
    }
  }

  @Test func removeAllEmptiesAndAllowsReuse() {
    var queue = BoundedQueue<Int>(limit: 4)
    for value in 0..<4 { queue.append(value) }
    _ = queue.popFirst()
    queue.append(9)
    queue.removeAll()
    #expect(queue.isEmpty && queue.count == 0 && queue.first == nil)
    for value in 10..<14 { #expect(queue.append(value) == true) }
    #expect(queue.append(14) == false)
    #expect(queue.popFirst() == 10)
  }

  /// Popped elements are released (the queue holds frames: it must not keep them alive).
  @Test func releasesPoppedElements() {
    final class Token {}
    var queue = BoundedQueue<Token>(limit: 8)
    weak var weakToken: Token?
    do {
      let token = Token()
      weakToken = token
      queue.append(token)
    }
    #expect(weakToken != nil)
    _ = queue.popFirst()
    #expect(weakToken == nil)
  }
}
