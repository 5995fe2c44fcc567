/// A first-in first-out queue with a fixed maximum length, as a ring buffer.
///
/// Every queue in the stack (frames waiting for ARP, datagrams waiting for a reader, frames
/// waiting for the device) is one of these: `append` refuses an element when full, and the
/// caller counts the drop. Storage grows on demand up to `limit` and is then reused.
///
/// Its methods are `@inlinable` so that the modules using it (the device drivers, the runtime)
/// get code specialised for their element type instead of generic code that looks up the
/// element's metadata on every call (as swift-collections' `Deque` does).
public struct BoundedQueue<Element> {
  @usableFromInline var storage: [Element?] = []
  @usableFromInline var head = 0
  @usableFromInline var queued = 0
  /// Number of elements queued.
  @inlinable public var count: Int { queued }
  /// The most elements the queue holds.
  public let limit: Int

  @inlinable
  public init(limit: Int) {
    precondition(limit > 0)
    self.limit = limit
  }

  @inlinable public var isEmpty: Bool { queued == 0 }
  @inlinable public var isFull: Bool { queued == limit }

  /// The oldest element, if any.
  @inlinable public var first: Element? { queued == 0 ? nil : storage[head] }

  /// Adds `element` at the back; returns false (and drops it) when the queue is full.
  @inlinable @discardableResult
  public mutating func append(_ element: Element) -> Bool {
    guard queued < limit else { return false }
    if queued == storage.count {
      // Full storage but below the limit: grow, moving the elements into order first.
      let newSize = Swift.min(limit, Swift.max(4, storage.count * 2))
      var grown: [Element?] = []
      grown.reserveCapacity(newSize)
      for offset in 0..<queued { grown.append(storage[(head + offset) % storage.count]) }
      while grown.count < newSize { grown.append(nil) }
      storage = grown
      head = 0
    }
    storage[(head + queued) % storage.count] = element
    queued += 1
    return true
  }

  /// Removes and returns the oldest element.
  @inlinable
  public mutating func popFirst() -> Element? {
    guard queued > 0 else { return nil }
    let element = storage[head]
    storage[head] = nil
    head = (head + 1) % storage.count
    queued -= 1
    return element
  }

  /// Removes every element.
  @inlinable
  public mutating func removeAll() {
    while popFirst() != nil {}
    head = 0
  }
}
