/// A first-in first-out queue with a fixed maximum length, as a ring buffer.
///
/// Every queue in the stack (frames waiting for ARP, datagrams waiting for a reader, frames
/// waiting for the device) is one of these: `append` refuses an element when full, and the
/// caller counts the drop. Storage grows on demand up to `limit` and is then reused.
public struct BoundedQueue<Element> {
  private var storage: [Element?] = []
  private var head = 0
  /// Number of elements queued.
  public private(set) var count = 0
  /// The most elements the queue holds.
  public let limit: Int

  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  public var isEmpty: Bool { count == 0 }
  public var isFull: Bool { count == limit }

  /// The oldest element, if any.
  public var first: Element? { count == 0 ? nil : storage[head] }

  /// Adds `element` at the back; returns false (and drops it) when the queue is full.
  @discardableResult
  public mutating func append(_ element: Element) -> Bool {
    guard count < limit else { return false }
    if count == storage.count {
      // Full storage but below the limit: grow, moving the elements into order first.
      let newSize = Swift.min(limit, Swift.max(4, storage.count * 2))
      var grown: [Element?] = []
      grown.reserveCapacity(newSize)
      for offset in 0..<count { grown.append(storage[(head + offset) % storage.count]) }
      while grown.count < newSize { grown.append(nil) }
      storage = grown
      head = 0
    }
    storage[(head + count) % storage.count] = element
    count += 1
    return true
  }

  /// Removes and returns the oldest element.
  public mutating func popFirst() -> Element? {
    guard count > 0 else { return nil }
    let element = storage[head]
    storage[head] = nil
    head = (head + 1) % storage.count
    count -= 1
    return element
  }

  /// Removes every element.
  public mutating func removeAll() {
    while popFirst() != nil {}
    head = 0
  }
}
