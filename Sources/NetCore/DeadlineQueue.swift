/// A min-heap of (deadline, slot, generation) entries: when each entry of a table (TCP's
/// connections, the services' sessions) next needs its timers, so that its owner finds the
/// due ones without scanning all of them.
///
/// Entries are not removed when a deadline moves; the owner checks each popped entry against
/// the slot's current deadline and generation and pushes it again if it moved (lazy
/// deletion). A slot is pushed only when its deadline moves earlier than what is already
/// queued for it, so the heap holds at most a few entries per slot.
public struct DeadlineQueue {
  private var heap: [(deadline: Instant, slot: Int, generation: UInt32)] = []

  public init() {}

  public var count: Int { heap.count }
  public var earliest: Instant? { heap.first?.deadline }

  public mutating func push(_ deadline: Instant, slot: Int, generation: UInt32) {
    heap.append((deadline, slot, generation))
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard heap[child].deadline < heap[parent].deadline else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  /// Removes and returns the earliest entry if it is due by `now`.
  public mutating func popDue(_ now: Instant) -> (slot: Int, generation: UInt32)? {
    guard let first = heap.first, first.deadline <= now else { return nil }
    let last = heap.removeLast()
    if !heap.isEmpty {
      heap[0] = last
      var parent = 0
      while true {
        let left = 2 * parent + 1
        let right = left + 1
        var smallest = parent
        if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
        if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
        guard smallest != parent else { break }
        heap.swapAt(parent, smallest)
        parent = smallest
      }
    }
    return (first.slot, first.generation)
  }
}
