import NetCore
import Testing

@testable import TCP

/// The retransmission timer (RFC 6298 §5): the oldest unacknowledged segment is sent again
/// when it expires, the timeout doubles each time, an acknowledgment restarts it and ends
/// the backoff, RTT samples never come from retransmitted segments (Karn, §3), and after the
/// configured number of retries the connection is given up. The same for SYN and SYN-ACK.
struct RetransmissionTimerTests {
  /// A passive connection whose handshake measured 100 ms: SRTT 100, RTTVAR 50, RTO 300 ms.
  static func established(configuration: TCPConfiguration = TCPConfiguration()) -> Harness {
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    return h
  }

  /// A data segment at SND.NXT (PSH on the first transmission of the last bytes queued; a
  /// retransmission carries plain ACK).
  func dataSegment(_ h: Harness, _ length: Int, from offset: Int = 0, push: Bool = false)
    -> Segment
  {
    Segment(
      push ? [.ack, .psh] : .ack, seq: h.ourNext, ack: h.peerNext, window: h.ourWindow,
      payload: pattern(length, from: offset))
  }

  @Test func handshakeGivesTheFirstSample() {
    let h = Self.established()
    #expect(h.connection?.smoothedRoundTripTime == .milliseconds(100))
    #expect(h.connection?.retransmissionTimeout.baseTimeout == .milliseconds(300))
  }

  @Test func oldestSegmentIsSentAgainAndTheTimeoutDoubles() {
    var h = Self.established()
    #expect(h.write(pattern(100)) == 100)
    h.expectSent(dataSegment(h, 100, push: true))
    let segment = dataSegment(h, 100)
    #expect(h.connection?.nextDeadline == h.now + .milliseconds(300))
    for timeout in [300, 600, 1200, 2400] as [Int64] {
      h.advance(by: .milliseconds(timeout - 1))
      h.expectNothingSent()
      h.advance(by: .milliseconds(1))
      h.expectSent(segment)
    }
    #expect(h.tcp.counters.retransmissionTimeouts == 4)
    #expect(h.tcp.counters.segmentsRetransmitted == 4)
    #expect(h.state == .established)
  }

  @Test func acknowledgmentOfARetransmissionGivesNoSampleAndEndsTheBackoff() {
    var h = Self.established()
    #expect(h.write(pattern(100)) == 100)
    _ = h.takeSent()
    h.advance(by: .milliseconds(300))
    h.advance(by: .milliseconds(600))
    #expect(h.takeSent().count == 2)
    // Karn: which transmission does this ACK answer? No sample.
    h.now += .milliseconds(30)
    h.ourNext += 100
    h.deliver(h.peerAck())
    #expect(h.connection?.smoothedRoundTripTime == .milliseconds(100))
    #expect(h.connection?.nextDeadline == nil)
    // The backoff is over: the next segment has the 300 ms timeout again.
    #expect(h.write(pattern(10, from: 100)) == 10)
    _ = h.takeSent()
    #expect(h.connection?.nextDeadline == h.now + .milliseconds(300))
  }

  @Test func freshSegmentGivesASample() {
    var h = Self.established()
    #expect(h.write(pattern(100)) == 100)
    _ = h.takeSent()
    h.now += .milliseconds(200)
    h.ourNext += 100
    h.deliver(h.peerAck())
    // RFC 6298 §2.3 with R' = 200 ms.
    #expect(h.connection?.smoothedRoundTripTime == .microseconds(112_500))
    #expect(h.connection?.retransmissionTimeout.baseTimeout == .microseconds(362_500))
  }

  @Test func partialAcknowledgmentRestartsTheTimer() {
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Self.established(configuration: configuration)
    #expect(h.write(pattern(2920)) == 2920)
    #expect(h.takeSent().count == 2)
    let start = h.now
    h.now += .milliseconds(200)
    h.ourNext += 1460
    h.deliver(h.peerAck())
    // §5.3: restart the timer with the (new) RTO, 362.5 ms after this sample.
    #expect(h.connection?.nextDeadline == start + .microseconds(562_500))
    h.advance(by: .microseconds(362_499))
    h.expectNothingSent()
    h.advance(by: .microseconds(1))
    h.expectSent(dataSegment(h, 1460, from: 1460))
  }

  /// The layer's own deadline may be a stale heap entry (lazy deletion, see DeadlineQueue);
  /// the connection's is exact.
  @Test func timerStopsWhenEverythingIsAcknowledged() {
    var h = Self.established()
    #expect(h.write(pattern(100)) == 100)
    _ = h.takeSent()
    #expect(h.connection?.nextDeadline != nil)
    h.ourNext += 100
    h.deliver(h.peerAck())
    #expect(h.connection?.nextDeadline == nil)
  }

  @Test func finIsRetransmittedLikeData() {
    var h = Self.established()
    h.enterFinWait1()
    h.advance(by: .milliseconds(300))
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext - 1, ack: h.peerNext))
    h.advance(by: .milliseconds(600))
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext - 1, ack: h.peerNext))
  }

  @Test func connectionIsGivenUpAfterTheConfiguredRetries() {
    var configuration = TCPConfiguration()
    configuration.dataRetries = 3
    var h = Self.established(configuration: configuration)
    #expect(h.write(pattern(100)) == 100)
    _ = h.takeSent()
    for timeout in [300, 600, 1200] as [Int64] {
      h.advance(by: .milliseconds(timeout))
      h.expectSent(dataSegment(h, 100))
    }
    h.advance(by: .milliseconds(2400))
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.connection?.error == .timedOut)
    #expect(h.tcp.counters.connectionsTimedOut == 1)
    var buffer = [UInt8](repeating: 0, count: 10)
    #expect(throws: TCPError.timedOut) {
      _ = try buffer.withUnsafeMutableBytes { try h.tcp.read(h.id!, into: $0, now: h.now) }
    }
  }

  @Test func synIsRetransmittedThenGivenUp() {
    var configuration = TCPConfiguration()
    configuration.synRetries = 2
    var h = Harness(configuration: configuration)
    h.connect()
    let syn = { (h: Harness) in
      Segment(
        .syn, seq: h.iss,
        options: .with(
          mss: 1460, windowScale: 7, sackPermitted: true, timestamp: (h.ourClock, 0)))
    }
    // RFC 6298 §2.1: 1 s before any sample, doubling.
    h.advance(by: .milliseconds(999))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(syn(h))
    h.advance(by: .seconds(2))
    h.expectSent(syn(h))
    h.advance(by: .seconds(4))
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.connection?.error == .timedOut)
  }

  @Test func synAckAfterARetransmittedSynGivesNoSample() {
    var h = Harness()
    h.connect()
    h.advance(by: .seconds(1))
    _ = h.takeSent()
    h.now += .milliseconds(50)
    h.deliver(h.peerSynAck())
    #expect(h.state == .established)
    #expect(h.connection?.smoothedRoundTripTime == nil)
  }

  @Test func synAckIsRetransmittedThenTheHalfOpenConnectionDropped() {
    var configuration = TCPConfiguration()
    configuration.synAckRetries = 2
    var h = Harness.listening(configuration: configuration)
    h.receiveSyn()
    let synAck = Segment(
      [.syn, .ack], seq: h.iss, ack: h.irs + 1, options: .with(mss: Harness.ourMSS))
    h.advance(by: .seconds(1))
    h.expectSent(synAck)
    h.advance(by: .seconds(2))
    h.expectSent(synAck)
    h.advance(by: .seconds(4))
    h.expectNothingSent()  // no RST: the peer may never have existed
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.listeners[Harness.serverPort]?.halfOpen == 0)
    #expect(h.tcp.counters.connectionsTimedOut == 1)
  }
}
