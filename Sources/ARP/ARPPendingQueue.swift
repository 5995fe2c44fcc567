import NetCore

/// IPv4 packets waiting for their next hop's hardware address (RFC 1122 §2.3.2.2: "SHOULD
/// save at least one ... packet"), bounded in total and per next hop.
///
/// Packets are released in order when the address resolves and dropped when it fails; the
/// caller counts both. Each packet is charged to the stack's memory budget while it waits
/// (`MemoryBudget/Use/neighbourQueues`).
public struct ARPPendingQueue {
  /// The most packets held for all next hops together.
  public let totalLimit: Int
  /// The most packets held for one next hop.
  public let perDestinationLimit: Int
  private var waiting: [(nextHop: IPv4Address, packet: PacketBuffer)] = []
  let budget: MemoryBudget

  public init(
    totalLimit: Int = 256, perDestinationLimit: Int = 64, budget: MemoryBudget = MemoryBudget()
  ) {
    precondition(totalLimit > 0 && perDestinationLimit > 0)
    self.totalLimit = totalLimit
    self.perDestinationLimit = perDestinationLimit
    self.budget = budget
  }

  /// What a waiting packet is charged.
  static func charge(_ packet: PacketBuffer) -> Int { packet.capacity + 64 }

  /// Packets waiting.
  public var count: Int { waiting.count }

  /// Packets waiting for `nextHop`.
  public func count(for nextHop: IPv4Address) -> Int {
    waiting.reduce(0) { $0 + ($1.nextHop == nextHop ? 1 : 0) }
  }

  /// Queues `packet` for `nextHop`; returns false (the packet is dropped) when a limit is hit.
  public mutating func enqueue(_ packet: PacketBuffer, for nextHop: IPv4Address) -> Bool {
    guard waiting.count < totalLimit, count(for: nextHop) < perDestinationLimit,
      budget.reserve(ARPPendingQueue.charge(packet), for: .neighbourQueues)
    else {
      return false
    }
    waiting.append((nextHop, packet))
    return true
  }

  /// Removes and returns the packets for `nextHop`, oldest first.
  public mutating func release(_ nextHop: IPv4Address) -> [PacketBuffer] {
    var released: [PacketBuffer] = []
    waiting.removeAll { entry in
      guard entry.nextHop == nextHop else { return false }
      released.append(entry.packet)
      return true
    }
    for packet in released { budget.release(ARPPendingQueue.charge(packet), for: .neighbourQueues) }
    return released
  }

  /// Drops the packets for `nextHop`; returns how many there were.
  public mutating func drop(_ nextHop: IPv4Address) -> Int {
    release(nextHop).count
  }

  /// Drops the packets whose next hop `isStranded` says nothing will resolve any more;
  /// returns how many there were.
  public mutating func drop(where isStranded: (IPv4Address) -> Bool) -> Int {
    let before = waiting.count
    let budget = self.budget
    waiting.removeAll { entry in
      guard isStranded(entry.nextHop) else { return false }
      budget.release(ARPPendingQueue.charge(entry.packet), for: .neighbourQueues)
      return true
    }
    return before - waiting.count
  }
}
