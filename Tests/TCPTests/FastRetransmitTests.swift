import NetCore
import Testing

@testable import TCP

/// Loss recovery without SACK (RFC 5681 §3.2, RFC 3042, RFC 6582): three duplicate ACKs
/// retransmit the segment at SND.UNA, once, and halve the window; limited transmit sends new
/// data on the first two; a partial ACK retransmits the next hole at once; the full ACK ends
/// recovery at ssthresh.
struct FastRetransmitTests {
  /// NewReno, Nagle off, no SACK; 10 full segments (the initial window) outstanding.
  static func tenSegmentsOut(queue extra: Int = 0) -> Harness {
    var configuration = TCPConfiguration()
    configuration.congestionAlgorithm = .newReno
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.establishPassive(roundTrip: .milliseconds(100))
    let total = 14600 + extra
    #expect(h.write(pattern(total)) == total)
    let sent = h.takeSent()
    #expect(sent.map(\.payload.count) == Array(repeating: 1460, count: 10))
    return h
  }

  /// Segment `index` of the stream as retransmitted (or first sent, when not the last).
  func segment(_ h: Harness, _ index: Int) -> Segment {
    Segment(
      .ack, seq: h.ourNext + 1460 * index, ack: h.peerNext,
      payload: pattern(1460, from: 1460 * index))
  }

  func duplicateAck(_ h: Harness) -> Segment { h.peerAck() }

  @Test func thirdDuplicateAckRetransmitsExactlyTheFirstSegment() {
    var h = Self.tenSegmentsOut()
    h.now += .milliseconds(100)
    h.deliver(duplicateAck(h))
    h.deliver(duplicateAck(h))
    h.expectNothingSent()
    #expect(h.connection?.recovery.inRecovery == false)
    h.deliver(duplicateAck(h))
    h.expectSent(segment(h, 0))
    #expect(h.tcp.counters.fastRetransmits == 1)
    #expect(h.connection?.recovery.inRecovery == true)
    // RFC 5681 equation (4): ssthresh = FlightSize / 2; cwnd = ssthresh (+3 SMSS inflation).
    #expect(h.connection?.congestion.slowStartThreshold == 7300)
    #expect(h.connection?.congestion.congestionWindow == 7300)
    // More duplicates inflate the window but 14600 bytes are still in flight: nothing.
    h.deliver(duplicateAck(h))
    h.deliver(duplicateAck(h))
    h.expectNothingSent()
  }

  @Test func duplicatesThatAreNotPureAreNotCounted() {
    var h = Self.tenSegmentsOut()
    // A window change, or data, makes an ACK no duplicate (RFC 5681 §2).
    h.deliver(h.peerAck(window: 60000))
    h.deliver(h.peerAck(window: 60000))
    h.deliver(h.peerAck(window: 65535))
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(1)))
    h.peerNext += 1
    _ = h.takeSent()
    #expect(h.connection?.recovery.inRecovery == false)
    #expect(h.tcp.counters.fastRetransmits == 0)
  }

  @Test func limitedTransmitSendsNewDataOnTheFirstTwoDuplicates() {
    // RFC 3042: one new segment for each of the first two duplicate ACKs.
    var h = Self.tenSegmentsOut(queue: 2 * 1460 + 100)
    h.deliver(duplicateAck(h))
    h.expectSent(segment(h, 10))
    h.deliver(duplicateAck(h))
    h.expectSent(segment(h, 11))
    h.deliver(duplicateAck(h))
    h.expectSent(segment(h, 0))
    // FlightSize was 12 segments: ssthresh 8760.
    #expect(h.connection?.congestion.slowStartThreshold == 8760)
  }

  @Test func partialAckRetransmitsTheNextHoleAtOnce() {
    // Segments 0 and 3 are lost.
    var h = Self.tenSegmentsOut()
    for _ in 0..<3 { h.deliver(duplicateAck(h)) }
    h.expectSent(segment(h, 0))
    // The retransmission fills the first hole: the peer acknowledges up to segment 3.
    h.deliver(h.peerAck(h.ourNext + 3 * 1460))
    // RFC 6582 §3.2 step 5: retransmit the first unacknowledged segment, stay in recovery.
    h.expectSent(segment(h, 3))
    #expect(h.connection?.recovery.inRecovery == true)
    #expect(h.tcp.counters.fastRetransmits == 1)
    // The full acknowledgment ends recovery: cwnd = ssthresh (step 3).
    h.deliver(h.peerAck(h.ourNext + 14600))
    #expect(h.connection?.recovery.inRecovery == false)
    #expect(h.connection?.congestion.congestionWindow == 7300)
    h.expectNothingSent()
  }

  @Test func newLossAfterRecoveryStartsANewEpisode() {
    var h = Self.tenSegmentsOut()
    for _ in 0..<3 { h.deliver(duplicateAck(h)) }
    h.deliver(h.peerAck(h.ourNext + 14600))
    h.ourNext += 14600
    _ = h.takeSent()
    #expect(h.write(pattern(7300)) == 7300)
    #expect(h.takeSent().count == 5)
    for _ in 0..<3 { h.deliver(duplicateAck(h)) }
    h.expectSent(segment(h, 0))
    #expect(h.tcp.counters.fastRetransmits == 2)
  }
}
