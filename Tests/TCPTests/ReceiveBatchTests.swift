import NetCore
import Testing

@testable import TCP

/// Segments that arrive in one batch (one wake-up of the runtime) are all processed before
/// anything is sent in answer: the ACKs of a batch release data once, in as large a segment as
/// offload allows; the data segments of a batch get one ACK (as Linux's GRO gives them); and
/// state that one segment leaves for the output (a SYN-ACK to send again) stays sound when the
/// next segment of the batch moves the connection on.
struct ReceiveBatchTests {
  /// The peer's `index`-th full segment of data after ``Harness/peerNext``.
  func peerData(_ h: Harness, segment index: Int) -> Segment {
    let mss = Int(Harness.ourMSS)
    return Segment(
      .ack, seq: h.peerNext + index * mss, ack: h.ourNext, payload: pattern(mss, from: index * mss))
  }

  @Test func retransmittedSynAndTheAckInOneBatchEstablishWithoutAnotherSynAck() {
    var h = Harness.listening()
    h.receiveSyn()
    // The SYN again (it would be answered by the SYN-ACK again), then the ACK of the first
    // SYN-ACK, before the runtime flushes.
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions), flush: false)
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, options: h.peerOptions()))
    #expect(h.state == .established)
    h.expectNothingSent()
    // The first data byte goes at ISS + 1.
    if let listener = h.listener { h.id = h.tcp.accept(listener) }
    h.write(pattern(100))
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(100)))
  }

  @Test func acknowledgmentsOfOneBatchReleaseOneLargeSegment() throws {
    var configuration = TCPConfiguration()
    configuration.nagle = false
    configuration.minimumSendBuffer = configuration.sendBufferSize  // all 200 kB queued at once
    var h = Harness.listening(configuration: configuration)
    h.network.supportsSegmentationOffload = true
    h.establishPassive(roundTrip: .milliseconds(1))
    let total = 200_000
    #expect(h.write(pattern(total)) == total)
    // The initial window goes as one offloaded segment.
    let first = h.takeSent()
    #expect(first.count == 1)
    let initialWindow = first.first?.payload.count ?? 0
    #expect(initialWindow == 10 * Int(Harness.ourMSS))
    h.ourNext = h.ourNext + initialWindow
    // The peer (its GRO off) acknowledges every second MSS; five ACKs arrive in one batch.
    h.now += .milliseconds(1)
    let mss = Int(Harness.ourMSS)
    for acknowledged in stride(from: 2 * mss, through: initialWindow, by: 2 * mss) {
      let last = acknowledged == initialWindow
      h.deliver(
        h.peerAck(h.ourNext - initialWindow + acknowledged), flush: last)
    }
    // One segment: what slow start opened over the whole batch (cwnd doubled, nothing in
    // flight), not five, one per ACK.
    let sent = h.takeSent()
    #expect(sent.count == 1)
    let window = try #require(h.connection?.congestion.congestionWindow)
    #expect(window == 2 * initialWindow)
    #expect(sent.first?.sequence == h.ourNext)
    #expect(sent.first?.payload == pattern(window, from: initialWindow))
  }

  @Test func dataSegmentsOfOneBatchGetOneAck() {
    var h = Harness.listening()
    h.establishPassive()
    let mss = Int(Harness.ourMSS)
    for index in 0..<4 {
      h.deliver(
        peerData(h, segment: index),
        flush: index == 3)
    }
    // Delivered one at a time these would draw two ACKs (every second full segment); as one
    // batch they draw one, for all four.
    let sent = h.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.flags == .ack)
    #expect(sent.first?.acknowledgment == h.peerNext + 4 * mss)
    #expect(sent.first?.payload == [])
    #expect(h.read() == pattern(4 * mss))
  }

  @Test func aLongBatchIsAcknowledgedAsItGoesNotOnlyAtItsEnd() {
    // 100 full segments in one batch (146 kB): the sender must not wait for all of them to be
    // read before its window moves, so an ACK goes once 128 KiB wait for one.
    var configuration = TCPConfiguration()
    configuration.receiveBufferSize = 1 << 20
    var h = Harness.listening(
      configuration: configuration, peerSynOptions: .with(mss: 1460, windowScale: 7))
    h.establishPassive()
    let mss = Int(Harness.ourMSS)
    // Two segments first: their ACK advertises the scaled window (a SYN-ACK's is 64 KiB).
    for index in 0..<2 {
      h.deliver(
        peerData(h, segment: index))
    }
    #expect(h.takeSent().count == 1)
    h.peerNext = h.peerNext + 2 * mss
    var acknowledgedAt: [Int] = []
    for index in 0..<100 {
      h.deliver(
        peerData(h, segment: index),
        flush: index == 99)
      for segment in h.takeSent() where segment.flags == .ack && segment.payload.isEmpty {
        acknowledgedAt.append(segment.acknowledgment - h.peerNext)
      }
    }
    // One ACK as the 90th segment arrives (131,400 bytes >= 131,072), one at the end.
    #expect(acknowledgedAt == [90 * mss, 100 * mss])
  }
}
