import NetCore
import Testing

/// The storage shared by the ARP cache and the IPv6 neighbour cache.
struct NeighbourTableTests {
  struct Neighbour: NeighbourTableEntry {
    var address: Int
    var lastUsed: Instant
    var isResolved: Bool
  }

  static func at(_ seconds: Int64) -> Instant { Instant(nanoseconds: seconds * 1_000_000_000) }

  @Test func findsEntriesByAddressAfterRemovalsMoveThem() {
    var table = NeighbourTable<Neighbour>(capacity: 4)
    for address in 1...4 {
      table.append(Neighbour(address: address, lastUsed: Self.at(0), isResolved: true))
    }
    #expect(table.isFull && table.count == 4)
    let removed = table.remove(at: table.position(of: 2)!)
    #expect(removed.address == 2)
    #expect(table.position(of: 2) == nil)
    for address in [1, 3, 4] {
      #expect(table.position(of: address).map { table[$0].address } == address)
    }
    table[table.position(of: 4)!].lastUsed = Self.at(9)
    #expect(table.entries.first { $0.address == 4 }?.lastUsed == Self.at(9))
  }

  @Test func givesUpTheLeastRecentlyUsedResolvedEntryFirst() {
    var table = NeighbourTable<Neighbour>(capacity: 4)
    #expect(table.leastRecentlyUsedPosition() == nil)
    table.append(Neighbour(address: 1, lastUsed: Self.at(1), isResolved: false))
    table.append(Neighbour(address: 2, lastUsed: Self.at(5), isResolved: true))
    table.append(Neighbour(address: 3, lastUsed: Self.at(3), isResolved: true))
    table.append(Neighbour(address: 4, lastUsed: Self.at(0), isResolved: false))
    // The oldest entries are being resolved: the oldest resolved one goes.
    #expect(table.leastRecentlyUsedPosition().map { table[$0].address } == 3)
    table.remove(at: table.position(of: 3)!)
    table.remove(at: table.position(of: 2)!)
    // Only entries being resolved are left: the oldest of them goes.
    #expect(table.leastRecentlyUsedPosition().map { table[$0].address } == 4)
  }
}
