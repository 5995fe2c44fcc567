import NetCore
import Testing

@testable import TCP

/// Keepalive (RFC 1122 §4.2.3.6): off unless configured; when on, an idle connection is
/// probed with a segment the peer must answer, and given up after that many unanswered
/// probes. Anything from the peer counts as an answer.
struct KeepaliveTests {
  static func established(keepalive: TCPKeepalive?) -> Harness {
    var configuration = TCPConfiguration()
    configuration.keepalive = keepalive
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    return h
  }

  static let short = TCPKeepalive(idle: .seconds(60), interval: .seconds(10), probes: 3)

  /// <SEQ=SND.NXT−1><ACK=RCV.NXT>, no data: outside the window, so the peer answers with ACK.
  func probe(_ h: Harness) -> Segment {
    Segment(.ack, seq: h.ourNext - 1, ack: h.peerNext)
  }

  @Test func offByDefault() {
    var h = Self.established(keepalive: nil)
    #expect(TCPConfiguration().keepalive == nil)
    #expect(h.connection?.nextDeadline == nil)
    h.advance(by: .seconds(3 * 3600))
    h.expectNothingSent()
    #expect(h.state == .established)
  }

  @Test func idleConnectionIsProbedAndAnAnswerKeepsItAlive() {
    var h = Self.established(keepalive: Self.short)
    h.advance(by: .seconds(59))
    h.expectNothingSent()
    h.advance(by: .seconds(1))
    h.expectSent(probe(h))
    #expect(h.tcp.counters.keepaliveProbes == 1)
    h.now += .seconds(1)
    h.deliver(h.peerAck())
    h.expectNothingSent()
    // Idle again from the answer.
    h.advance(by: .seconds(59))
    h.expectNothingSent()
    h.advance(by: .seconds(1))
    h.expectSent(probe(h))
  }

  @Test func unansweredProbesGiveTheConnectionUp() {
    var h = Self.established(keepalive: Self.short)
    h.advance(by: .seconds(60))
    h.expectSent(probe(h))
    h.advance(by: .seconds(10))
    h.expectSent(probe(h))
    h.advance(by: .seconds(10))
    h.expectSent(probe(h))
    h.advance(by: .seconds(9))
    h.expectNothingSent()
    #expect(h.state == .established)
    h.advance(by: .seconds(1))
    #expect(h.state == .closed)
    #expect(h.connection?.error == .timedOut)
    #expect(h.tcp.counters.connectionsTimedOut == 1)
  }

  @Test func trafficPostponesTheFirstProbe() {
    var h = Self.established(keepalive: Self.short)
    h.advance(by: .seconds(50))
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(1)))
    h.peerNext += 1
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
    h.advance(by: .seconds(59))
    h.expectNothingSent()
    h.advance(by: .seconds(1))
    h.expectSent(probe(h))
  }

  @Test func canBeTurnedOnForOneConnection() {
    var h = Self.established(keepalive: nil)
    h.advance(by: .seconds(10))  // no timer of the handshake left queued
    #expect(h.tcp.nextDeadline == nil)
    try? h.tcp.setKeepalive(h.id!, Self.short, now: h.now)
    h.tcp.flush(now: h.now, network: &h.network)
    h.advance(by: .seconds(60))
    // The layer re-arms the timer: the idle connection is probed.
    h.expectSent(probe(h))
  }
}
