/// A handle to an element of a ``HandleTable``: the element's slot and the generation of the
/// slot when the element was put there.
///
/// Each table has its own handle type (`UDPEndpointID`, a TCP connection's ID), so a handle of
/// one table cannot be used with another.
public protocol TableHandle: Hashable, Sendable {
  init(slot: Int, generation: UInt32)
  /// Where the element is in the table.
  var slot: Int { get }
  /// The slot's generation when the element was inserted.
  var generation: UInt32 { get }
}

/// A table of elements reached through typed handles (slot and generation), for the things
/// an application holds a handle to: UDP endpoints, TCP connections.
///
/// Freed slots are reused (a free list, so the table never grows beyond the most elements it
/// held at once), and each removal bumps the slot's generation, so a stale handle, one whose
/// element was removed, never reaches the slot's next occupant: it finds nothing (the ABA
/// problem solved as in slotmap and gVisor's `tcpip.Endpoint` IDs). Bounded by ``limit``.
///
/// Code that queues slots (a deadline queue, a list of connections with output due) keeps
/// the handle, or the slot and generation, and asks ``contains(_:)`` or ``handle(forSlot:)``
/// when it gets to them.
public struct HandleTable<Handle: TableHandle, Element> {
  private struct Slot {
    var generation: UInt32 = 0
    var element: Element?
  }

  private var slots: [Slot] = []
  private var freeSlots: [Int] = []
  /// Elements in the table.
  public private(set) var count = 0
  /// The most elements the table holds.
  public let limit: Int

  /// An empty table of at most `limit` elements.
  public init(limit: Int = Int.max) {
    precondition(limit > 0)
    self.limit = limit
  }

  public var isEmpty: Bool { count == 0 }
  public var isFull: Bool { count >= limit }
  /// Slots allocated so far, occupied or free: every slot number is below this.
  public var slotCount: Int { slots.count }

  /// Puts `element` in a free slot (or a new one) and returns its handle; nil when the table
  /// is full.
  public mutating func insert(_ element: Element) -> Handle? {
    guard !isFull else { return nil }
    let slot: Int
    if let reused = freeSlots.popLast() {
      slot = reused
    } else {
      slot = slots.count
      slots.append(Slot())
    }
    slots[slot].element = element
    count += 1
    return Handle(slot: slot, generation: slots[slot].generation)
  }

  /// Removes the element behind `handle` and returns it; nil (and nothing changes) when the
  /// handle is stale. The slot's generation moves on, so `handle` is stale from now on.
  @discardableResult
  public mutating func remove(_ handle: Handle) -> Element? {
    guard contains(handle) else { return nil }
    let element = slots[handle.slot].element.take()
    slots[handle.slot].generation &+= 1
    freeSlots.append(handle.slot)
    count -= 1
    return element
  }

  /// Whether `handle` names an element in the table.
  public func contains(_ handle: Handle) -> Bool {
    handle.slot >= 0 && handle.slot < slots.count
      && slots[handle.slot].generation == handle.generation
      && slots[handle.slot].element != nil
  }

  /// The element behind `handle`, if the handle is not stale.
  public subscript(handle: Handle) -> Element? {
    contains(handle) ? slots[handle.slot].element : nil
  }

  /// Calls `body` with the element behind `handle`, which it may change in place; nil when the
  /// handle is stale.
  public mutating func update<Result>(_ handle: Handle, _ body: (inout Element) -> Result)
    -> Result?
  {
    guard contains(handle) else { return nil }
    return body(&slots[handle.slot].element!)
  }

  /// The handle of the element in `slot` now, if the slot is occupied.
  public func handle(forSlot slot: Int) -> Handle? {
    guard slot >= 0, slot < slots.count, slots[slot].element != nil else { return nil }
    return Handle(slot: slot, generation: slots[slot].generation)
  }

  /// Calls `body` with each element and its handle, in slot order.
  public func forEach(_ body: (Handle, Element) -> Void) {
    for slot in slots.indices {
      if let element = slots[slot].element {
        body(Handle(slot: slot, generation: slots[slot].generation), element)
      }
    }
  }
}
