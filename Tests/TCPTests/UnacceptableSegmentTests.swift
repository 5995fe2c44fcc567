import NetCore
import Testing

@testable import TCP

/// Segments a synchronized connection must not take at face value (RFC 9293 §3.10.7.4):
/// outside the receive window ("first, check sequence number"), a SYN ("fourth", RFC 5961
/// §4.2), an ACK of data never sent or far in the past ("fifth", RFC 5961 §5.2), and the
/// unacceptable ACK in SYN-RECEIVED.
struct UnacceptableSegmentTests {
  @Test(arguments: SynchronizedState.allCases)
  func synInASynchronizedStateGetsAChallengeAck(_ setup: SynchronizedState) {
    var h = setup.harness()
    h.deliver(Segment(.syn, seq: h.peerNext, options: .with(mss: 1460)))
    h.expectSent(h.ourAck())
    #expect(h.state == setup.state)
    #expect(h.tcp.counters.challengeAcks == 1)
  }

  @Test(arguments: SynchronizedState.allCases)
  func oldSynIsAnsweredWithAnAck(_ setup: SynchronizedState) {
    var h = setup.harness()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    h.expectSent(h.ourAck())
    #expect(h.state == setup.state)
  }

  @Test func ackOfDataNotYetSentIsAnsweredAndTheSegmentDropped() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext + 10, payload: pattern(100)))
    // "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the
    // segment, and return."
    h.expectSent(h.ourAck())
    #expect(h.connection?.readableBytes == 0)
    #expect(h.connection?.receiver.next == h.peerNext)
    #expect(h.state == .established)
  }

  @Test func ackFarBelowUnacknowledgedGetsAChallengeAck() {
    var h = Harness.listening()
    h.establishPassive()
    // RFC 5961 §5.2: SEG.ACK must be at least SND.UNA − MAX.SND.WND.
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext - 70_000, payload: pattern(10)))
    h.expectSent(h.ourAck())
    #expect(h.tcp.counters.challengeAcks == 1)
    #expect(h.connection?.readableBytes == 0)
  }

  @Test func oldDuplicateAckStillDeliversItsData() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext - 1000, payload: pattern(10)))
    #expect(h.connection?.readableBytes == 10)
    #expect(h.tcp.counters.challengeAcks == 0)
  }

  @Test(arguments: [0, 2, -1000])
  func badAckInSynReceivedIsReset(offset: Int) {
    var h = Harness.listening()
    h.receiveSyn()
    let acknowledgment = h.iss + offset
    h.deliver(Segment(.ack, seq: h.peerNext, ack: acknowledgment))
    // §3.10.7.4 SYN-RECEIVED: "If the segment acknowledgment is not acceptable, form a reset
    // segment <SEQ=SEG.ACK><CTL=RST> and send it."
    h.expectSent(Segment(.rst, seq: acknowledgment, window: 0))
    #expect(h.state == .synReceived)
    h.deliver(h.peerAck())
    #expect(h.state == .established)
  }

  @Test func segmentWithoutAckIsDropped() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment(.psh, seq: h.peerNext, payload: pattern(10)))
    h.expectNothingSent()
    #expect(h.connection?.readableBytes == 0)
  }

  @Test func dataBeyondTheWindowIsDroppedAndAcknowledged() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment(.ack, seq: h.peerNext + 65535, ack: h.ourNext, payload: pattern(10)))
    h.expectSent(h.ourAck())
    #expect(h.connection?.readableBytes == 0)
    #expect(h.connection?.receiver.buffer.outOfOrderRanges == [])
    #expect(h.tcp.counters.droppedOutOfWindow == 1)
  }

  @Test func retransmittedOldDataIsAcknowledgedAgain() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(100)))
    h.peerNext += 100
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
    h.deliver(Segment([.ack, .psh], seq: h.peerNext - 100, ack: h.ourNext, payload: pattern(100)))
    h.expectSent(h.ourAck())
    #expect(h.read() == pattern(100))
  }

  @Test func partlyOldDataKeepsOnlyTheNewPart() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(100)))
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext + 50, ack: h.ourNext, payload: pattern(100, from: 50)))
    h.peerNext += 150
    #expect(h.read() == pattern(150))
    #expect(h.connection?.receiver.next == h.peerNext)
  }

  @Test func outOfWindowBareAcksAreAnsweredAtMostTwiceASecond() {
    var h = Harness.listening()
    h.establishPassive()
    let stray = Segment(.ack, seq: h.peerNext + 100_000, ack: h.ourNext)
    h.deliver(stray)
    h.expectSent(h.ourAck())
    h.deliver(stray)
    h.expectNothingSent()
    h.now += .milliseconds(500)
    h.deliver(stray)
    h.expectSent(h.ourAck())
  }

  @Test func zeroWindowStillProcessesTheAckOfASegmentAtReceiveNext() {
    var configuration = TCPConfiguration()
    configuration.receiveBufferSize = 1000
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    #expect(h.ourWindow == 1000)
    #expect(h.write(pattern(10)) == 10)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, window: 1000, payload: pattern(10)))
    h.ourNext += 10
    // The peer fills the window, not yet acknowledging our data.
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext - 10, payload: pattern(1000)))
    h.peerNext += 1000
    h.advance(by: .milliseconds(40))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, window: 0))
    // More data at RCV.NXT with a zero window: not accepted, but its ACK is (§3.10.7.4: "If
    // the RCV.WND is zero, no segments will be acceptable, but special allowance should be
    // made to accept valid ACKs").
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(1, from: 1000)))
    h.expectSent(Segment(.ack, seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.connection?.unacknowledgedBytes == 0)
    #expect(h.connection?.readableBytes == 1000)
  }
}
