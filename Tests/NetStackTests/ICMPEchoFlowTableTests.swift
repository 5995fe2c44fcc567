import NetCore
import NetStack
import Testing

/// The relay's echo flows: one per guest, identifier and destination; bounded with the least
/// recently used evicted; expired after their idle timeout.
struct ICMPEchoFlowTableTests {
  typealias Key = ICMPEchoFlowTable.Key
  static let guest = IPv4Address(10, 0, 2, 15)

  func key(_ identifier: UInt16, _ last: UInt8 = 1) -> Key {
    Key(
      guest: .v4(Self.guest), identifier: identifier, destination: .v4(IPv4Address(192, 0, 2, last))
    )
  }

  func at(_ seconds: Int64) -> Instant { .zero + .seconds(seconds) }

  @Test func aFlowIsMadeOnceAndCountsItsTraffic() throws {
    var table = ICMPEchoFlowTable(maximumFlows: 4, idleTimeout: .seconds(60))
    let first = table.use(key(1), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(0))
    #expect(first.created && first.evicted == nil)
    let again = table.use(key(1), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(1))
    #expect(!again.created && again.id == first.id)
    table.recordReply(first.id, now: at(2))
    let flow = try #require(table.flow(first.id))
    #expect(flow.requests == 2 && flow.replies == 1 && flow.lastUsed == at(2))
    // Another identifier or destination is another flow.
    #expect(table.use(key(2), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(3)).created)
    #expect(
      table.use(key(1, 9), hostDestination: .v4(IPv4Address(192, 0, 2, 9)), now: at(3)).created)
    #expect(table.count == 3)
  }

  @Test func aFullTableEvictsTheLeastRecentlyUsed() {
    var table = ICMPEchoFlowTable(maximumFlows: 2, idleTimeout: .seconds(60))
    let a = table.use(key(1), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(0))
    let b = table.use(key(2), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(1))
    _ = table.use(key(1), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(2))
    let c = table.use(key(3), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(3))
    #expect(c.created && c.evicted == b.id)
    #expect(table.count == 2 && table.evictions == 1)
    #expect(table.flow(a.id) != nil && table.flow(b.id) == nil)
    // The evicted key makes a new flow with a new number.
    let again = table.use(key(2), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(4))
    #expect(again.created && again.id != b.id && again.evicted == a.id)
  }

  @Test func idleFlowsExpire() {
    var table = ICMPEchoFlowTable(maximumFlows: 8, idleTimeout: .seconds(60))
    #expect(table.nextDeadline == nil)
    let a = table.use(key(1), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(0))
    let b = table.use(key(2), hostDestination: .v4(IPv4Address(192, 0, 2, 1)), now: at(30))
    #expect(table.nextDeadline == at(60))
    #expect(table.expire(now: at(59)).isEmpty)
    #expect(table.expire(now: at(60)) == [a.id])
    #expect(table.nextDeadline == at(90))
    table.recordReply(b.id, now: at(80))
    #expect(table.expire(now: at(100)).isEmpty)
    #expect(table.expire(now: at(140)) == [b.id])
    #expect(table.count == 0 && table.expirations == 2 && table.nextDeadline == nil)
  }
}
