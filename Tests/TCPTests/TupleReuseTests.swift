import NetCore
import Testing

@testable import TCP

/// A connection the application still holds after it ended, and a new connection of the same
/// four-tuple: the table must tell them apart by slot, not by tuple (a bug once let the old
/// handle's close remove the new connection's entry, so that it drew RSTs while the table
/// still counted it).
struct TupleReuseTests {
  @Test func closingAnEndedConnectionLeavesTheNewOneOfTheSameTupleAlone() throws {
    var h = Harness.listening()
    h.establishPassive()
    let old = try #require(h.id)
    // The peer resets it; the application has not looked yet and still holds the handle.
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    #expect(h.tcp.connection(old)?.state == .closed)
    #expect(h.tcp.connectionCount == 0)
    // The peer opens the same four-tuple again, with a new ISN.
    h.now += .seconds(1)
    h.irs = SequenceNumber(5_000_000)
    h.id = nil
    h.establishPassive()
    let new = try #require(h.id)
    #expect(new != old)
    #expect(h.tcp.connectionCount == 1)
    // Now the application closes the old handle.
    h.tcp.close(old)
    h.tcp.flush(now: h.now, network: &h.network)
    h.expectNothingSent()
    #expect(h.tcp.connectionCount == 1)
    #expect(h.tcp.connection(new)?.state == .established)
    // The new connection still receives: its data is acknowledged, not reset.
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.advance(by: .milliseconds(50))
    let sent = h.takeSent()
    #expect(sent.allSatisfy { !$0.flags.contains(.rst) })
    #expect(h.tcp.connection(new)?.readableBytes == 10)
    #expect(h.tcp.counters.connectionsClosed == 1)
    // And when it closes, the count returns to zero, not below.
    h.tcp.abort(new)
    h.tcp.flush(now: h.now, network: &h.network)
    #expect(h.tcp.connectionCount == 0)
  }
}
