import NetCore
import Testing

@testable import TCP

/// Recovery from a retransmission timeout (RFC 5681 §3.1, RFC 6298 §5.4): the window drops to
/// one segment, the oldest unacknowledged segment goes first, and slow start resends the rest
/// as acknowledgments come back.
struct TimeoutRecoveryTests {
  static func tenSegmentsOut(algorithm: CongestionAlgorithm = .newReno) -> Harness {
    var configuration = TCPConfiguration()
    configuration.congestionAlgorithm = algorithm
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    #expect(h.write(pattern(14600)) == 14600)
    #expect(h.takeSent().count == 10)
    return h
  }

  func segment(_ h: Harness, _ index: Int) -> Segment {
    Segment(
      .ack, seq: h.ourNext + 1460 * index, ack: h.peerNext,
      payload: pattern(1460, from: 1460 * index))
  }

  @Test func timeoutSendsOneSegmentFromSndUna() {
    var h = Self.tenSegmentsOut()
    h.advance(by: .milliseconds(300))
    h.expectSent(segment(h, 0))
    #expect(h.connection?.congestion.congestionWindow == 1460)
    #expect(h.connection?.congestion.slowStartThreshold == 7300)
    #expect(h.tcp.counters.retransmissionTimeouts == 1)
  }

  @Test func slowStartResendsTheRestAsAcksReturn() {
    var h = Self.tenSegmentsOut()
    h.advance(by: .milliseconds(300))
    h.expectSent(segment(h, 0))
    h.now += .milliseconds(100)
    h.deliver(h.peerAck(h.ourNext + 1460))
    // cwnd 2 segments: the next two, oldest first.
    h.expectSent(segment(h, 1), segment(h, 2))
    h.deliver(h.peerAck(h.ourNext + 3 * 1460))
    h.expectSent(segment(h, 3), segment(h, 4), segment(h, 5), segment(h, 6))
  }

  @Test func cubicAlsoFallsToOneSegment() {
    var h = Self.tenSegmentsOut(algorithm: .cubic)
    h.advance(by: .milliseconds(300))
    h.expectSent(segment(h, 0))
    #expect(h.connection?.congestion.congestionWindow == 1460)
    #expect(h.connection?.congestion.slowStartThreshold == 10220)
  }

  @Test func fullSegmentWithFinIsRetransmittedInAOneSegmentWindow() {
    // The last segment holds a full MSS of data and the FIN: 1461 bytes of sequence space
    // against a loss window of 1460. RFC 6298 §5.4 retransmits it all the same.
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    // Written and shut down together: one segment, data and FIN.
    #expect((try? h.tcp.write(h.id!, pattern(1460).span)) == 1460)
    try? h.tcp.shutdownWrite(h.id!)
    h.tcp.flush(now: h.now, network: &h.network)
    h.expectSent(
      Segment([.fin, .ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(1460)))
    h.advance(by: .milliseconds(300))
    h.expectSent(
      Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext, payload: pattern(1460)))
    // And again, backed off: the timer was restarted.
    h.advance(by: .milliseconds(600))
    h.expectSent(
      Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext, payload: pattern(1460)))
  }

  @Test func noTimerIsLeftAfterEverythingIsAcknowledged() {
    var h = Harness.listening()
    h.establishPassive(roundTrip: .milliseconds(100))
    #expect(h.write(pattern(100)) == 100)
    _ = h.takeSent()
    h.ourNext += 100
    h.enterFinWait1()
    h.deliver(h.peerAck())
    #expect(h.state == .finWait2)
    #expect(h.connection?.nextDeadline == nil)
  }

  @Test func secondTimeoutBacksOffAndSendsTheSameSegment() {
    var h = Self.tenSegmentsOut()
    h.advance(by: .milliseconds(300))
    h.expectSent(segment(h, 0))
    h.advance(by: .milliseconds(599))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(segment(h, 0))
    #expect(h.connection?.congestion.congestionWindow == 1460)
  }
}
