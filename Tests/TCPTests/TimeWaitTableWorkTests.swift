import NetCore
import Testing

@testable import TCP

/// The TIME-WAIT table does bounded work per call (issue 15): many records expiring together
/// are forgotten a bounded number per poll, and records removed or renewed early (clients
/// reusing ports) leave nothing behind to skip or compact later.
struct TimeWaitTableWorkTests {
  static let start = Instant.zero + .seconds(1)

  /// A record for the tuple with remote port `port`, expiring at `expires`.
  static func entry(port: UInt16, expires: Instant) -> TCPTimeWaitTable.Entry {
    var tuple = Harness().tuple
    tuple.remotePort = port
    return TCPTimeWaitTable.Entry(
      tuple: tuple, sendNext: SequenceNumber(1), receiveNext: SequenceNumber(1),
      timestampRecent: nil, timestampOffset: 0, receiveWindowShift: 0, expires: expires)
  }

  @Test func sixtyThousandRecordsExpiringAtOnceAreForgottenInBoundedPasses() {
    let records = 60_000
    var table = TCPTimeWaitTable(limit: 65_536)
    for port in 1...records { table.insert(Self.entry(port: UInt16(port), expires: Self.start)) }
    #expect(table.count == records)

    // One poll forgets at most a pass's worth, and says that more are due at once.
    table.expire(now: Self.start)
    #expect(table.count == records - TCPTimeWaitTable.expiriesPerPass)
    #expect(table.nextDeadline == Self.start)

    var passes = 1
    while table.count > 0 && passes < 1000 {
      let before = table.count
      let forgotten = table.expire(now: Self.start)
      #expect(forgotten <= TCPTimeWaitTable.expiriesPerPass)
      #expect(before - table.count == forgotten)
      passes += 1
    }
    let expectedPasses =
      (records + TCPTimeWaitTable.expiriesPerPass - 1) / TCPTimeWaitTable.expiriesPerPass
    #expect(passes == expectedPasses)
    #expect(table.count == 0)
    #expect(table.nextDeadline == nil)
  }

  @Test func reusedTuplesLeaveNoStaleRecords() {
    let limit = 1_000
    var table = TCPTimeWaitTable(limit: limit)
    for port in 1...limit { table.insert(Self.entry(port: UInt16(port), expires: Self.start)) }
    // 100,000 reuses: each removes a record early (a new SYN took the tuple) and enters a new
    // one later; the records in use or free never outnumber the table's limit.
    var now = Self.start
    for round in 0..<100_000 {
      let port = UInt16(round % limit + 1)
      now = now + .microseconds(1)
      table.remove(Self.entry(port: port, expires: now).tuple)
      table.insert(Self.entry(port: port, expires: now))
    }
    #expect(table.count == limit)
    #expect(table.recordCapacity == limit)
    #expect(table.overflows == 0)
  }

  @Test func renewedRecordMovesToTheEndOfTheExpiryOrder() {
    var table = TCPTimeWaitTable(limit: 8)
    table.insert(Self.entry(port: 1, expires: Self.start + .seconds(1)))
    table.insert(Self.entry(port: 2, expires: Self.start + .seconds(2)))
    table.insert(Self.entry(port: 3, expires: Self.start + .seconds(3)))
    // A retransmitted FIN on port 1 restarts its wait: port 2 is now the oldest.
    table.insert(Self.entry(port: 1, expires: Self.start + .seconds(4)))
    #expect(table.count == 3)
    #expect(table.nextDeadline == Self.start + .seconds(2))
    table.expire(now: Self.start + .seconds(3))
    #expect(table.count == 1)
    #expect(table.entry(for: Self.entry(port: 1, expires: .zero).tuple) != nil)
    #expect(table.nextDeadline == Self.start + .seconds(4))
    // Removing a record early unlinks it: the next deadline is the next record's.
    table.insert(Self.entry(port: 5, expires: Self.start + .seconds(5)))
    table.remove(Self.entry(port: 1, expires: .zero).tuple)
    #expect(table.count == 1)
    #expect(table.nextDeadline == Self.start + .seconds(5))
    table.expire(now: Self.start + .seconds(5))
    #expect(table.count == 0)
    #expect(table.nextDeadline == nil)
    #expect(table.recordCapacity == 3)
  }
}
