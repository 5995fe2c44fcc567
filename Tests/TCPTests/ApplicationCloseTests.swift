import NetCore
import Testing

@testable import TCP

/// What the application's close and abort do to the peer (RFC 9293 §3.10.4–5, RFC 1122
/// §4.2.2.13, RFC 2525 §2.17): data left unread, or data arriving for a connection nobody will
/// read, resets it; abort resets a synchronized connection and not a half-open one.
struct ApplicationCloseTests {
  @Test func closeWithUnreadDataSendsReset() {
    var h = Harness.listening()
    h.establishPassive()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    h.close()
    // ABORT: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, at once, and nothing else.
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.connection(h.id!) == nil)
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.counters.resetsSent == 1)
    // The peer's next segment finds no connection.
    h.deliver(h.peerAck())
    h.expectSent(Segment(.rst, seq: h.ourNext, window: 0))
  }

  @Test(arguments: [SynchronizedState.finWait1, .finWait2])
  func dataArrivingAfterCloseSendsReset(_ setup: SynchronizedState) {
    var h = Harness.listening()
    h.establishPassive()
    h.close()
    h.expectSent(Segment([.fin, .ack], seq: h.ourNext, ack: h.peerNext))
    h.ourNext += 1
    if setup == .finWait2 {
      h.deliver(h.peerAck())
      h.expectNothingSent()
    }
    #expect(h.state == setup.state)
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.state == .closed)
  }

  @Test func dataAfterShutdownWriteIsStillDelivered() {
    // Only close() gives up reading; shutdownWrite() is a half-close.
    var h = Harness.listening()
    h.establishPassive()
    h.enterFinWait1()
    h.deliver(Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    h.expectNothingSent()
    #expect(h.read() == pattern(10))
    #expect(h.state == .finWait2)
  }

  @Test(arguments: SynchronizedState.allCases)
  func abortInASynchronizedStateSendsReset(_ setup: SynchronizedState) {
    var h = setup.harness()
    h.abort()
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.connection(h.id!) == nil)
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.timeWaitCount == 0)
  }

  @Test func abortInSynSentSendsNothing() {
    // §3.10.5 ABORT in SYN-SENT: "delete the TCB"; no RST, the peer has nothing.
    var h = Harness()
    h.connect()
    h.abort()
    h.expectNothingSent()
    #expect(h.tcp.connectionCount == 0)
    // The SYN is not retransmitted.
    h.advance(by: .seconds(10))
    h.expectNothingSent()
  }

  @Test func closeInSynSentSendsNothing() {
    var h = Harness()
    h.connect()
    h.close()
    h.expectNothingSent()
    #expect(h.tcp.connection(h.id!) == nil)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func stopListeningResetsConnectionsNotYetAccepted() {
    var h = Harness.listening()
    h.receiveSyn()
    h.deliver(h.peerAck())
    #expect(h.state == .established)
    h.tcp.stopListening(h.listener!)
    h.tcp.flush(now: h.now, network: &h.network)
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.connectionCount == 0)
    #expect(!h.tcp.isListening(h.listener!))
    // The port is closed now.
    h.remotePort += 1
    h.deliver(Segment(.syn, seq: h.irs))
    h.expectSent(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.irs + 1, window: 0))
  }

  @Test func stopListeningResetsHalfOpenConnections() {
    var h = Harness.listening()
    h.receiveSyn()
    h.tcp.stopListening(h.listener!)
    h.tcp.flush(now: h.now, network: &h.network)
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func closedHandleIsInvalid() {
    var h = Harness.listening()
    h.establishPassive()
    h.abort()
    #expect(throws: TCPError.invalidHandle) { try h.tcp.write(h.id!, pattern(1).span) }
    #expect(throws: TCPError.invalidHandle) { try h.tcp.shutdownWrite(h.id!) }
  }
}
