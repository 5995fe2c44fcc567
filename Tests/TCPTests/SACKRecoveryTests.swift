import NetCore
import Testing

@testable import TCP

/// Loss recovery with SACK (RFC 6675, RFC 8985): the scoreboard built from the peer's SACK
/// blocks decides what is lost (more than two segments' worth SACKed above it, or RACK's
/// clock), exactly the holes are retransmitted as the pipe allows, and a tail loss is probed
/// before the retransmission timer.
struct SACKRecoveryTests {
  /// NewReno (for round numbers), Nagle off, SACK without timestamps (full 1460-byte
  /// segments); the handshake measured 100 ms; 10 segments outstanding since `sentAt`.
  static func tenSegmentsOut() -> (Harness, Instant) {
    var configuration = TCPConfiguration()
    configuration.congestionAlgorithm = .newReno
    configuration.nagle = false
    // The application keeps everything it will send queued: the send buffer takes it all.
    configuration.minimumSendBuffer = configuration.sendBufferSize
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = .with(mss: 1460, sackPermitted: true)
    h.establishPassive(roundTrip: .milliseconds(100))
    let sentAt = h.now
    #expect(h.write(pattern(14600)) == 14600)
    #expect(h.takeSent().count == 10)
    return (h, sentAt)
  }

  func segment(_ h: Harness, _ index: Int) -> Segment {
    Segment(
      .ack, seq: h.ourNext + 1460 * index, ack: h.peerNext,
      payload: pattern(1460, from: 1460 * index))
  }

  /// The SACK block for segments `[from, to)`.
  func sacked(_ h: Harness, _ from: Int, _ to: Int) -> SACKBlock {
    SACKBlock(left: h.ourNext + 1460 * from, right: h.ourNext + 1460 * to)
  }

  /// A duplicate ACK at SND.UNA with SACK blocks.
  func ack(_ h: Harness, _ blocks: [SACKBlock], acknowledging index: Int = 0) -> Segment {
    Segment(.ack, seq: h.peerNext, ack: h.ourNext + 1460 * index, options: .with(sack: blocks))
  }

  @Test func moreThanTwoSegmentsSackedAboveMakeAHoleLost() {
    var (h, _) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(ack(h, [sacked(h, 1, 2)]))
    h.deliver(ack(h, [sacked(h, 1, 3)]))
    h.expectNothingSent()  // 2 × SMSS SACKed above: not yet (RFC 6675 IsLost: "more than")
    h.deliver(ack(h, [sacked(h, 1, 4)]))
    h.expectSent(segment(h, 0))
    #expect(h.connection?.recovery.inRecovery == true)
    #expect(h.connection?.congestion.slowStartThreshold == 7300)
  }

  @Test func rackMarksAHoleLostAfterTheReorderingWindow() {
    // RFC 8985 §6.2: a segment sent before one since delivered is lost once it has been out
    // for the RTT of that delivery plus a reordering window (a quarter of the minimum RTT).
    var (h, sentAt) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(ack(h, [sacked(h, 1, 2)]))
    h.expectNothingSent()
    #expect(h.connection?.nextDeadline == sentAt + .milliseconds(125))
    h.advance(by: .milliseconds(24))
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(segment(h, 0))
  }

  @Test func reorderedSegmentArrivingInTimeIsNotRetransmitted() {
    var (h, _) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(ack(h, [sacked(h, 1, 2)]))
    h.now += .milliseconds(10)
    // Segment 0 was only late: everything up to segment 2 is acknowledged.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext + 2 * 1460))
    h.advance(by: .milliseconds(50))  // past the reordering deadline, before any probe
    h.expectNothingSent()
    #expect(h.tcp.counters.segmentsRetransmitted == 0)
  }

  @Test func everyHoleIsRetransmittedOnceAsThePipeAllows() {
    // Segments 0 and 3 are lost; one ACK reports 1–2 and 4–9.
    var (h, _) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(ack(h, [sacked(h, 4, 10), sacked(h, 1, 3)]))
    h.expectSent(segment(h, 0), segment(h, 3))
    #expect(h.tcp.counters.fastRetransmits == 1)
    #expect(h.tcp.counters.segmentsRetransmitted == 2)
    // A partial ACK covering the first hole sends nothing again.
    h.deliver(ack(h, [sacked(h, 4, 10)], acknowledging: 3))
    h.expectNothingSent()
    #expect(h.connection?.recovery.inRecovery == true)
    // The full ACK ends recovery at ssthresh.
    h.deliver(ack(h, [], acknowledging: 10))
    #expect(h.connection?.recovery.inRecovery == false)
    #expect(h.connection?.congestion.congestionWindow == 7300)
  }

  @Test func sackedSegmentsAreNotRetransmittedAfterATimeout() {
    // RFC 6675 §5.1 / RFC 8985 §6.3: after the RTO, what the receiver SACKed is not sent
    // again (unless the timer expires twice running).
    var (h, sentAt) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(ack(h, [sacked(h, 1, 10)]))
    h.expectSent(segment(h, 0))
    // The retransmission is lost too. No tail loss probe in recovery (RFC 8985 §7.2): the
    // next thing is the retransmission timer, 300 ms after the first transmission.
    h.advance(by: sentAt + .milliseconds(299) - h.now)
    h.expectNothingSent()
    h.advance(by: .milliseconds(1))
    h.expectSent(segment(h, 0))
  }

  @Test func tailLossIsProbedBeforeTheRetransmissionTimer() {
    // RFC 8985 §7: the last segment is lost; no duplicate ACK will come. A probe (the last
    // segment again) draws the ACK that shows it, well before the 300 ms RTO.
    var (h, sentAt) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(h.peerAck(h.ourNext + 9 * 1460))
    h.expectNothingSent()
    #expect(h.advanceToNextDeadline() != nil)
    h.expectSent(segment(h, 9))
    #expect(h.now - sentAt < .milliseconds(400))
    #expect(h.tcp.counters.retransmissionTimeouts == 0)
  }

  @Test func aLoneSegmentIsNotProbedWhileTheReceiverMayStillDelayItsAck() {
    // RFC 8985 §7.2: with one segment out, the probe waits 2 × SRTT plus the worst-case
    // delayed ACK (200 ms; Linux holds a lone segment's ACK up to that long, as a slow reader
    // behind curl --limit-rate makes it do). On a 1 ms path an ACK 150 ms late is no loss.
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = .with(mss: 1460, sackPermitted: true)
    h.establishPassive(roundTrip: .milliseconds(1))
    #expect(h.write(pattern(500)) == 500)
    _ = h.takeSent()
    h.advance(by: .milliseconds(150))
    h.expectNothingSent()
    h.deliver(h.peerAck(h.ourNext + 500))
    h.expectNothingSent()
    #expect(h.tcp.counters.segmentsRetransmitted == 0)
  }

  @Test func aProbeDueWithTheRetransmissionTimerGoesInsteadOfTheTimeout() {
    // RFC 8985 §7.2: when the RTO would fire before the computed PTO, the probe is sent at the
    // RTO's time, as a probe: the congestion window is not cut to one segment.
    var (h, sentAt) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(h.peerAck(h.ourNext + 9 * 1460))
    let window = h.connection?.congestion.congestionWindow
    let rto = h.connection?.retransmissionDeadline
    #expect(h.connection?.recovery.probeDeadline == rto)
    #expect(h.advanceToNextDeadline() != nil)
    h.expectSent(segment(h, 9))
    #expect(h.tcp.counters.retransmissionTimeouts == 0)
    #expect(h.connection?.congestion.congestionWindow == window)
    // The timer restarted from the probe.
    #expect(h.connection?.retransmissionDeadline.map { $0 > h.now } == true)
    #expect(h.now - sentAt < .milliseconds(600))
  }

  @Test func probeTimerRestartsWhenNewDataIsAcknowledged() {
    // RFC 8985 §7.2: "the sender SHOULD start or restart a loss probe PTO timer after
    // transmitting new data ... or upon receiving an ACK that cumulatively acknowledges new
    // data": after the ACK at +100 ms, the probe is due 2 × SRTT later, not 2 × SRTT after
    // the first transmission.
    var (h, sentAt) = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(h.peerAck(h.ourNext + 9 * 1460))
    h.advance(by: .milliseconds(150))
    h.expectNothingSent()
    #expect(h.connection?.recovery.probeDeadline.map { $0 > sentAt + .milliseconds(250) } == true)
  }
}

extension SACKRecoveryTests {
  @Test func steadyTransferRetransmitsNothing() {
    // A long transfer with acknowledgments arriving steadily, each covering what was sent a
    // round trip earlier: nothing is lost, and nothing should be sent twice.
    var (h, _) = Self.tenSegmentsOut()
    #expect(h.write(pattern(2_000_000, from: 14600)) == 2_000_000)
    // The end of what had been sent at each 50 ms tick; the peer acknowledges, at each tick,
    // what had been sent two ticks (100 ms) before.
    var sentBy: [SequenceNumber] = [h.ourNext + 14600]
    for _ in 0..<40 {
      h.advance(by: .milliseconds(50))
      if sentBy.count >= 2 { h.deliver(h.peerAck(sentBy[sentBy.count - 2])) }
      sentBy.append(h.connection?.sender.maximum ?? h.ourNext)
      _ = h.takeSent()
    }
    #expect(h.tcp.counters.segmentsRetransmitted == 0)
  }
}
