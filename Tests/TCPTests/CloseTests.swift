import NetCore
import Testing

@testable import TCP

/// Closing (RFC 9293 §3.6, §3.10.4, §3.10.7.4 "eighth, check the FIN bit"): active and passive
/// close, simultaneous close through CLOSING, half-close in both directions, FIN with data and
/// a FIN that arrives ahead of missing data.
struct CloseTests {
  @Test func activeCloseGoesThroughFinWaitToTimeWait() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterTimeWait()
    #expect(h.tcp.timeWaitCount == 1)
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.counters.connectionsClosed == 1)
    #expect(h.connection?.isAtEndOfStream == true)
    // The application still holds the handle until it releases it.
    h.tcp.release(h.id!)
    #expect(h.tcp.connection(h.id!) == nil)
    #expect(h.tcp.timeWaitCount == 1)
  }

  @Test func finAcknowledgingOurFinGoesStraightToTimeWait() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterFinWait1()
    h.deliver(Segment([.fin, .ack], seq: h.peerNext, ack: h.ourNext))
    h.peerNext += 1
    h.expectSent(h.ourAck())
    #expect(h.state == .timeWait)
  }

  @Test func passiveCloseGoesThroughCloseWaitAndLastAck() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterLastAck()
    h.deliver(h.peerAck())
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.connection?.error == nil)
    #expect(h.tcp.timeWaitCount == 0)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func closedConnectionInLastAckIsFreedWhenReleased() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterCloseWait()
    h.close()
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext))
    h.ourNext += 1
    #expect(h.state == .lastAck)
    h.deliver(h.peerAck())
    #expect(h.tcp.connection(h.id!) == nil)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func simultaneousCloseGoesThroughClosing() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterClosing()
    // The ACK of our FIN: CLOSING → TIME-WAIT, nothing to send (§3.10.7.4 CLOSING: "if the
    // ACK acknowledges our FIN, then enter the TIME-WAIT state; otherwise, ignore the
    // segment"). The peer's FIN was acknowledged already.
    h.deliver(h.peerAck())
    h.expectNothingSent()
    #expect(h.state == .timeWait)
    #expect(h.tcp.timeWaitCount == 1)
  }

  @Test func closingRetransmitsOurFinUntilAcknowledged() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterClosing()
    h.advanceToNextDeadline()
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext - 1, ack: h.peerNext))
    #expect(h.state == .closing)
  }

  @Test func halfCloseOurSide_peerKeepsSending() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterFinWait2()
    // FIN-WAIT-2 still receives (§3.10.7.4 "seventh").
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(1000)))
    h.peerNext += 1000
    #expect(h.read() == pattern(1000))
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(500, from: 1000)))
    h.peerNext += 500
    // The second segment in a row is acknowledged at once.
    h.expectSent(h.ourAck())
    #expect(h.read() == pattern(500, from: 1000))
    #expect(h.state == .finWait2)
    // Writing after shutdown fails.
    #expect(throws: TCPError.notConnected) { try h.tcp.write(h.id!, pattern(1).span) }
    h.deliver(Segment([.fin, .ack], seq: h.peerNext, ack: h.ourNext))
    h.peerNext += 1
    h.expectSent(h.ourAck())
    #expect(h.state == .timeWait)
    #expect(h.connection?.isAtEndOfStream == true)
  }

  @Test func halfClosePeerSide_weKeepSending() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterCloseWait()
    #expect(h.connection?.isAtEndOfStream == true)
    #expect(h.write(pattern(300)) == 300)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(300)))
    h.ourNext += 300
    h.deliver(h.peerAck())
    h.expectNothingSent()
    #expect(h.connection?.unacknowledgedBytes == 0)
    #expect(h.write(pattern(200, from: 300)) == 200)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(200, from: 300)))
    h.ourNext += 200
    h.shutdownWrite()
    // The FIN waits for nothing: it follows the data at once.
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext))
    h.ourNext += 1
    #expect(h.state == .lastAck)
    h.deliver(h.peerAck())
    #expect(h.state == .closed)
  }

  @Test func finBehindQueuedDataFollowsTheData() {
    var h = Harness.listening()
    h.establishPassive()
    #expect(h.write(pattern(100)) == 100)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(100)))
    h.ourNext += 100
    // Nagle holds the second small write while the first is unacknowledged.
    #expect(h.write(pattern(50, from: 100)) == 50)
    h.expectNothingSent()
    h.shutdownWrite()
    // The FIN releases the held data: data and FIN in one segment.
    h.expectSent(
      Segment(
        [.fin, .ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(50, from: 100)))
    h.ourNext += 51
    #expect(h.state == .finWait1)
    // An ACK of the data but not the FIN keeps FIN-WAIT-1.
    h.deliver(h.peerAck(h.ourNext - 1))
    #expect(h.state == .finWait1)
    h.deliver(h.peerAck())
    #expect(h.state == .finWait2)
  }

  @Test func finWithDataIsAcknowledgedAtOnce() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(
      Segment(
        [.fin, .ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(700)))
    h.peerNext += 701
    h.expectSent(h.ourAck(window: 65535))
    #expect(h.state == .closeWait)
    #expect(h.connection?.isAtEndOfStream == false)
    #expect(h.read() == pattern(700))
    #expect(h.connection?.isAtEndOfStream == true)
    #expect(h.read() == [])
  }

  @Test func outOfOrderFinWaitsForTheMissingData() {
    var h = Harness.listening()
    h.establishPassive()
    // The second half, with the FIN, arrives first: a duplicate ACK at once (RFC 5681 §4.2).
    h.deliver(
      Segment([.fin, .ack], seq: h.peerNext + 100, ack: h.ourNext, payload: pattern(50, from: 100)))
    h.expectSent(h.ourAck())
    #expect(h.state == .established)
    #expect(h.connection?.receiver.finReceived == false)
    // The gap fills: everything, FIN included, is acknowledged at once.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(100)))
    h.peerNext += 151
    h.expectSent(h.ourAck())
    #expect(h.state == .closeWait)
    #expect(h.read() == pattern(150))
    #expect(h.connection?.isAtEndOfStream == true)
  }

  @Test func outOfOrderBareFinWaitsForTheMissingData() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.fin, .ack], seq: h.peerNext + 10, ack: h.ourNext))
    h.expectSent(h.ourAck())
    #expect(h.state == .established)
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 11
    h.expectSent(h.ourAck())
    #expect(h.state == .closeWait)
  }

  @Test func duplicateFinInCloseWaitIsAcknowledgedAgain() {
    var h = Harness.listening()
    h.establishPassive()
    h.enterCloseWait()
    h.deliver(Segment([.fin, .ack], seq: h.peerNext - 1, ack: h.ourNext))
    h.expectSent(h.ourAck())
    #expect(h.state == .closeWait)
  }

  @Test func shutdownInSynSentClosesWithoutSending() {
    var h = Harness()
    h.connect()
    h.shutdownWrite()
    h.expectNothingSent()
    #expect(h.state == .closed)
  }

  @Test func closeAfterTheApplicationReadEverythingSendsFin() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    #expect(h.read() == pattern(10))
    h.close()
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext))
    #expect(h.state == .finWait1)
  }
}
