/// An entry of a ``NeighbourTable``: what the table needs to know of it to find it and to pick
/// one to give up.
public protocol NeighbourTableEntry {
  associatedtype Address: Hashable
  /// The network address the entry is for; it must not change while the entry is held.
  var address: Address { get }
  /// When the entry was last used to send.
  var lastUsed: Instant { get }
  /// Whether the link-layer address is known (false while it is being resolved).
  var isResolved: Bool { get }
}

/// The storage of a neighbour cache, shared by ARP's (RFC 826) and IPv6 neighbour discovery's
/// (RFC 4861 §5.1): at most `capacity` entries in a stable order (so that timers walk them
/// deterministically), found by address.
///
/// When a full table needs room, ``leastRecentlyUsedPosition()`` names the entry to give up:
/// the least recently used of the resolved entries, or of all when none is resolved, so that a
/// flood of new addresses cannot push out the neighbours in use (RFC 4861 §7.3.2 leaves the
/// choice to the implementation; this is Linux's).
public struct NeighbourTable<Entry: NeighbourTableEntry> {
  /// The most entries held.
  public let capacity: Int
  /// The entries, in a stable order.
  public private(set) var entries: [Entry] = []
  private var index: [Entry.Address: Int] = [:]

  public init(capacity: Int) {
    precondition(capacity > 0)
    self.capacity = capacity
    entries.reserveCapacity(capacity)
  }

  public var count: Int { entries.count }
  public var isFull: Bool { entries.count >= capacity }

  /// Where the entry for `address` is, if there is one.
  public func position(of address: Entry.Address) -> Int? {
    index[address]
  }

  /// The entry at `position`, to read or change in place (not its address).
  public subscript(position: Int) -> Entry {
    get { entries[position] }
    _modify { yield &entries[position] }
  }

  /// The entry to give up for room: the least recently used, resolved entries first.
  public func leastRecentlyUsedPosition() -> Int? {
    var victim: Int? = nil
    for (position, entry) in entries.enumerated() {
      guard let current = victim else {
        victim = position
        continue
      }
      let best = entries[current]
      if entry.isResolved != best.isResolved {
        if entry.isResolved { victim = position }
      } else if entry.lastUsed < best.lastUsed {
        victim = position
      }
    }
    return victim
  }

  /// Adds an entry for an address that has none; the caller makes room first.
  public mutating func append(_ entry: Entry) {
    precondition(!isFull && index[entry.address] == nil)
    index[entry.address] = entries.count
    entries.append(entry)
  }

  /// Removes the entry at `position`, moving the last entry into its place, and returns it.
  @discardableResult
  public mutating func remove(at position: Int) -> Entry {
    let removed = entries[position]
    index[removed.address] = nil
    let last = entries.count - 1
    if position != last {
      entries[position] = entries[last]
      index[entries[position].address] = position
    }
    entries.removeLast()
    return removed
  }
}
