import NetCore
import Testing

@testable import TCP

/// TIME-WAIT (RFC 9293 §3.6, §3.10.7.4): the connection is remembered as a small record for
/// 2 MSL (here 60 s, Linux's), a retransmitted FIN is acknowledged again and restarts the
/// wait, a bare ACK needs no answer, and the table is bounded.
struct TimeWaitTests {
  static func timeWait(configuration: TCPConfiguration = TCPConfiguration()) -> Harness {
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    h.enterTimeWait()
    h.tcp.release(h.id!)
    return h
  }

  @Test func recordExpiresAfterTwoMSL() {
    var h = Self.timeWait()
    #expect(h.tcp.timeWaitCount == 1)
    #expect(h.tcp.timeWait.nextDeadline == h.now + .seconds(60))
    h.advance(by: .seconds(60) - .nanoseconds(1))
    #expect(h.tcp.timeWaitCount == 1)
    h.advance(by: .nanoseconds(1))
    #expect(h.tcp.timeWaitCount == 0)
    #expect(h.state == .closed)
    h.expectNothingSent()
    // Forgotten: the listener now answers a stray ACK with a RST.
    h.deliver(h.peerAck())
    h.expectSent(Segment(.rst, seq: h.ourNext, window: 0))
  }

  @Test func retransmittedFinIsAcknowledgedAgainAndRestartsTheWait() {
    var h = Self.timeWait()
    h.advance(by: .seconds(30))
    h.deliver(Segment([.fin, .ack], seq: h.peerNext - 1, ack: h.ourNext))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, window: 0))
    h.advance(by: .seconds(59))
    #expect(h.tcp.timeWaitCount == 1)
    h.advance(by: .seconds(1))
    #expect(h.tcp.timeWaitCount == 0)
  }

  @Test func bareAckIsNotAnswered() {
    // Two ends in TIME-WAIT after a simultaneous close would otherwise trade ACKs for ever.
    var h = Self.timeWait()
    h.deliver(h.peerAck())
    h.expectNothingSent()
  }

  @Test func dataIsAnsweredWithTheFinalAck() {
    var h = Self.timeWait()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, window: 0))
  }

  @Test func finalAckCarriesTimestampsWhenTheyWereInUse() {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, timestamp: (7000, 0))
    h.establishPassive()
    h.enterTimeWait()
    h.peerClock = 7500
    h.deliver(
      Segment(
        [.fin, .ack], seq: h.peerNext - 1, ack: h.ourNext,
        options: .with(timestamp: (7500, h.lastOurTimestamp))))
    h.expectSent(
      Segment(
        .ack, seq: h.ourNext, ack: h.peerNext, window: 0,
        options: .with(timestamp: (h.ourClock, 7500))))
  }

  @Test func tableIsBoundedAndForgetsTheOldest() {
    var configuration = TCPConfiguration()
    configuration.maximumTimeWait = 2
    var h = Harness.listening(configuration: configuration)
    for port in 40000..<40003 as Range<UInt16> {
      h.remotePort = port
      h.id = nil
      h.establishPassive()
      h.enterTimeWait()
      h.tcp.release(h.id!)
      h.now += .seconds(1)
    }
    #expect(h.tcp.timeWaitCount == 2)
    #expect(h.tcp.counters.timeWaitOverflows == 1)
    h.remotePort = 40000
    #expect(h.state == .closed)
    h.remotePort = 40002
    #expect(h.state == .timeWait)
  }

  @Test func orphanedConnectionInFinWait2IsClosedAfterTheTimeout() {
    var h = Harness.listening()
    h.establishPassive()
    h.close()
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext))
    h.ourNext += 1
    h.deliver(h.peerAck())
    #expect(h.state == .finWait2)
    h.advance(by: .seconds(59))
    #expect(h.state == .finWait2)
    h.advance(by: .seconds(1))
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func halfClosedConnectionInFinWait2WaitsForThePeer() {
    // Only an orphan times out: after shutdownWrite the application still reads.
    var h = Harness.listening()
    h.establishPassive()
    h.enterFinWait2()
    h.advance(by: .seconds(3600))
    #expect(h.state == .finWait2)
  }
}
