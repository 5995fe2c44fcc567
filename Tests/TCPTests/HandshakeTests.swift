import NetCore
import Testing

@testable import TCP

/// Opening a connection (RFC 9293 §3.5, §3.10.7.2–3): the passive open from LISTEN through
/// SYN-RECEIVED, the active open from SYN-SENT, simultaneous open, and each exact segment on
/// the way.
struct HandshakeTests {
  @Test func passiveOpenAnswersSynWithSynAckAndEstablishesOnTheAck() {
    var h = Harness.listening()
    h.receiveSyn()
    // Not yet acceptable: the handshake is not complete.
    #expect(h.tcp.accept(h.listener!) == nil)
    h.deliver(h.peerAck())
    h.expectNothingSent()
    #expect(h.state == .established)
    #expect(h.tcp.takeNotifications().contains(.listener(h.listener!)))
    let id = h.tcp.accept(h.listener!)
    #expect(id != nil)
    #expect(h.tcp.isHeldByApplication(id!))
    #expect(h.tcp.counters.passiveOpens == 1)
    #expect(h.tcp.counters.connectionsEstablished == 1)
    #expect(h.tcp.connectionCount == 1)
  }

  @Test func passiveOpenWithEveryOptionNegotiatesThemAll() {
    var h = Harness.listening()
    h.peerSynOptions = h.fullOptions()
    h.establishPassive()
    let connection = h.connection!
    #expect(connection.timestampsEnabled)
    #expect(connection.sackEnabled)
    #expect(connection.windowScalingEnabled)
    #expect(connection.sendWindowShift == 7)
    #expect(connection.receiveWindowShift == 7)  // 4 MiB needs a shift of 7
    #expect(connection.sendMaximumSegmentSize == 1460)
    // The final ACK's window is scaled: 65535 << 7.
    #expect(connection.sender.window == 65535 << 7)
  }

  @Test func finalAckCarryingDataEstablishesAndDeliversIt() {
    var h = Harness.listening()
    h.receiveSyn()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(100)))
    h.peerNext += 100
    #expect(h.state == .established)
    h.expectNothingSent()  // the acknowledgment is delayed
    h.id = h.tcp.accept(h.listener!)
    #expect(h.read() == pattern(100))
    h.advance(by: .milliseconds(40))
    h.expectSent(h.ourAck())
  }

  @Test func retransmittedSynInSynReceivedGetsTheSameSynAck() {
    var h = Harness.listening()
    h.receiveSyn()
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    h.expectSent(
      Segment([.syn, .ack], seq: h.iss, ack: h.irs + 1, options: h.expectedSynAckOptions()))
    #expect(h.state == .synReceived)
    #expect(h.tcp.connectionCount == 1)
  }

  @Test func activeOpenSendsSynAndAcknowledgesTheSynAck() {
    var h = Harness()
    h.establishActive()
    #expect(h.tcp.counters.activeOpens == 1)
    #expect(h.tcp.counters.connectionsEstablished == 1)
    let events = h.tcp.takeNotifications()
    #expect(
      events.contains {
        if case .connection(_, let e) = $0 { e.contains(.established) } else { false }
      })
  }

  @Test func activeOpenWithEveryOptionNegotiatesThemAll() {
    var h = Harness()
    h.peerSynOptions = h.fullOptions()
    h.establishActive()
    let connection = h.connection!
    #expect(connection.timestampsEnabled)
    #expect(connection.sackEnabled)
    #expect(connection.sendWindowShift == 7)
    // The SYN-ACK's window is not scaled (RFC 7323 §2.2).
    #expect(connection.sender.window == 65535)
  }

  @Test func dataWrittenInSynSentRidesOnTheHandshakeAck() {
    var h = Harness()
    h.connect()
    #expect(h.write(pattern(10)) == 10)
    h.expectNothingSent()  // nothing before the handshake completes
    h.deliver(h.peerSynAck())
    h.peerNext = h.irs + 1
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(10)))
  }

  @Test func synSentIgnoresABareAcceptableAck() {
    var h = Harness()
    h.connect()
    // §3.10.7.3: neither SYN nor RST: drop.
    h.deliver(Segment(.ack, seq: h.irs, ack: h.iss + 1))
    h.expectNothingSent()
    #expect(h.state == .synSent)
  }

  @Test(arguments: [0, -1, 2, 1000])
  func synSentResetsAnUnacceptableAck(offset: Int) {
    var h = Harness()
    h.connect()
    // §3.10.7.3: SEG.ACK =< ISS or SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>.
    let acknowledgment = h.iss + offset
    h.deliver(Segment([.syn, .ack], seq: h.irs, ack: acknowledgment))
    h.expectSent(Segment(.rst, seq: acknowledgment, window: 0))
    #expect(h.state == .synSent)
    // The right SYN-ACK still completes the handshake.
    h.deliver(h.peerSynAck())
    h.expectSent(Segment(.ack, seq: h.iss + 1, ack: h.irs + 1))
    #expect(h.state == .established)
  }

  @Test func simultaneousOpen() {
    // RFC 9293 Figure 8: both ends send SYN; each answers the other's with SYN-ACK and is
    // established by the other's SYN-ACK.
    var h = Harness()
    h.connect()
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    // Line 5: <SEQ=ISS><ACK=IRS+1><CTL=SYN,ACK>; only the MSS, the peer offered nothing else.
    h.expectSent(
      Segment([.syn, .ack], seq: h.iss, ack: h.irs + 1, options: .with(mss: Harness.ourMSS)))
    #expect(h.state == .synReceived)
    // Line 6: the peer's SYN-ACK establishes the connection; nothing more needs to be said.
    h.deliver(Segment([.syn, .ack], seq: h.irs, ack: h.iss + 1, options: h.peerSynOptions))
    h.expectNothingSent()
    #expect(h.state == .established)
    h.peerNext = h.irs + 1
    #expect(h.connection?.sender.window == 65535)
    #expect(h.write(pattern(5)) == 5)
    h.expectSent(Segment([.ack, .psh], seq: h.iss + 1, ack: h.irs + 1, payload: pattern(5)))
  }

  @Test func simultaneousOpenWithScalingTakesTheSynAckWindowUnscaled() {
    var h = Harness()
    h.peerSynOptions = h.fullOptions()
    h.connect()
    h.deliver(Segment(.syn, seq: h.irs, window: 1000, options: h.peerSynOptions))
    _ = h.takeSent()
    var synAck = h.peerSynAck()
    synAck.window = 2000
    h.deliver(synAck)
    h.expectNothingSent()
    #expect(h.state == .established)
    // RFC 7323 §2.2: the window field of a segment with SYN set is never scaled.
    #expect(h.connection?.sender.window == 2000)
    #expect(h.connection?.sendWindowShift == 7)
  }

  @Test func simultaneousOpenCompletedByABareAck() {
    // A peer that answers our SYN-ACK with a plain ACK completes the handshake as well.
    var h = Harness()
    h.connect()
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    _ = h.takeSent()
    h.deliver(Segment(.ack, seq: h.irs + 1, ack: h.iss + 1))
    h.expectNothingSent()
    #expect(h.state == .established)
  }

  @Test func simultaneousOpenWithQueuedFinSendsItOnlyAfterTheHandshake() {
    var h = Harness()
    h.connect()
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    _ = h.takeSent()
    #expect(h.state == .synReceived)
    // RFC 9293 §3.10.4 CLOSE in SYN-RECEIVED: queue the FIN until ESTABLISHED.
    h.shutdownWrite()
    h.expectNothingSent()
    // The SYN-ACK is lost: the timer sends it again, not data or a FIN.
    h.advanceToNextDeadline()
    h.expectSent(
      Segment([.syn, .ack], seq: h.iss, ack: h.irs + 1, options: .with(mss: Harness.ourMSS)))
    h.deliver(Segment(.ack, seq: h.irs + 1, ack: h.iss + 1))
    h.expectSent(Segment([.fin, .ack], seq: h.iss + 1, ack: h.irs + 1))
    #expect(h.state == .finWait1)
  }
}
