import NetCore
import Testing

@testable import TCP

/// Receiving RST (RFC 9293 §3.10.7.3–4 "second, check the RST bit", RFC 5961 §3.2): only a
/// RST at exactly RCV.NXT resets; one elsewhere in the window draws a challenge ACK; one
/// outside the window is dropped silently. In SYN-SENT a RST counts only with an acceptable
/// ACK.
struct ResetTests {
  @Test(arguments: SynchronizedState.allCases)
  func resetAtExactlyReceiveNextCloses(_ setup: SynchronizedState) {
    var h = setup.harness()
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    h.expectNothingSent()  // never a RST for a RST
    #expect(h.state == .closed)
    let expected: TCPError? = setup.peerMaySend || setup == .closeWait ? .connectionReset : nil
    #expect(h.connection?.error == expected)
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.timeWaitCount == 0)
    #expect(h.tcp.counters.resetsReceived == 1)
  }

  @Test(arguments: SynchronizedState.allCases)
  func resetWithAckAtReceiveNextCloses(_ setup: SynchronizedState) {
    var h = setup.harness()
    h.deliver(Segment([.rst, .ack], seq: h.peerNext, ack: h.ourNext, window: 0))
    h.expectNothingSent()
    #expect(h.state == .closed)
  }

  @Test(arguments: SynchronizedState.allCases, [1, 1000, 65534])
  func resetInWindowButNotExactGetsAChallengeAck(_ setup: SynchronizedState, offset: Int) {
    var h = setup.harness()
    h.deliver(Segment(.rst, seq: h.peerNext + offset, window: 0))
    // RFC 5961 §3.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    h.expectSent(h.ourAck())
    #expect(h.state == setup.state)
    #expect(h.tcp.counters.challengeAcks == 1)
    // The peer, if it really meant to reset, answers with the exact sequence number.
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    #expect(h.state == .closed)
  }

  @Test(arguments: SynchronizedState.allCases, [-1, -1000, 65535, 1 << 20])
  func resetOutsideTheWindowIsIgnored(_ setup: SynchronizedState, offset: Int) {
    var h = setup.harness()
    h.deliver(Segment(.rst, seq: h.peerNext + offset, window: 0))
    h.expectNothingSent()
    #expect(h.state == setup.state)
  }

  @Test func challengeAcksAreLimitedPerConnection() {
    // RFC 5961 §7, as Linux since 4.7: one connection draws at most one challenge ACK per
    // half second, however many in-window RSTs arrive.
    var h = Harness.listening()
    h.establishPassive()
    for _ in 0..<150 { h.deliver(Segment(.rst, seq: h.peerNext + 1, window: 0)) }
    #expect(h.takeSent().count == 1)
    #expect(h.tcp.counters.challengeAcks == 1)
    #expect(h.tcp.counters.challengeAcksLimited == 149)
    h.now += .milliseconds(499)
    h.deliver(Segment(.rst, seq: h.peerNext + 1, window: 0))
    h.expectNothingSent()
    h.now += .milliseconds(1)
    h.deliver(Segment(.rst, seq: h.peerNext + 1, window: 0))
    h.expectSent(h.ourAck())
  }

  @Test func theHostWideChallengeAllowanceIsRandomEachSecond() {
    // The host-wide allowance is drawn afresh every second between 500 and 1500 (CVE-2016-5696:
    // a fixed, known budget lets an off-path attacker count what is left).
    var allowances: Set<Int> = []
    var limiter = ChallengeAcknowledgmentLimiter(seed: 42)
    for second in 0..<20 {
      let now = Instant(nanoseconds: Int64(second) * 1_000_000_000 + 5)
      var allowed = 0
      while limiter.allow(now: now) { allowed += 1 }
      #expect(allowed >= 500 && allowed < 1500)
      allowances.insert(allowed)
    }
    #expect(allowances.count > 10)
  }

  @Test func resetInTimeWaitIsIgnored() {
    // RFC 1337: TIME-WAIT assassination hazards; the record stays for its 2 MSL.
    var h = Harness.listening()
    h.establishPassive()
    h.enterTimeWait()
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    h.expectNothingSent()
    #expect(h.tcp.timeWaitCount == 1)
  }

  @Test func resetInPassiveSynReceivedReturnsToListen() {
    var h = Harness.listening()
    h.receiveSyn()
    h.deliver(Segment(.rst, seq: h.peerNext, window: 0))
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.listeners[Harness.serverPort]?.halfOpen == 0)
    #expect(h.tcp.accept(h.listener!) == nil)
    // The listener is still there: a new SYN opens a new connection.
    h.receiveSyn()
  }

  @Test func resetInWindowInSynReceivedIsNotAReset() {
    var h = Harness.listening()
    h.receiveSyn()
    h.deliver(Segment(.rst, seq: h.peerNext + 10, window: 0))
    #expect(h.state == .synReceived)
    // RFC 9293 §3.10.7.4 applies RFC 5961's challenge ACK to SYN-RECEIVED as well.
    h.expectSent(Segment(.ack, seq: h.iss + 1, ack: h.irs + 1))
    #expect(h.tcp.counters.challengeAcks == 1)
    // Still half-open: the final ACK completes the handshake.
    h.deliver(h.peerAck())
    #expect(h.state == .established)
  }

  @Test func resetInSimultaneousSynReceivedRefusesTheConnection() {
    var h = Harness()
    h.connect()
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    _ = h.takeSent()
    h.deliver(Segment(.rst, seq: h.irs + 1, window: 0))
    // §3.10.7.4 SYN-RECEIVED from an active OPEN: "the user should be informed ...
    // connection refused".
    #expect(h.state == .closed)
    #expect(h.connection?.error == .connectionRefused)
  }

  @Test func resetWithAcceptableAckInSynSentRefusesTheConnection() {
    var h = Harness()
    h.connect()
    h.deliver(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.iss + 1, window: 0))
    h.expectNothingSent()
    #expect(h.state == .closed)
    #expect(h.connection?.error == .connectionRefused)
    var buffer = [UInt8](repeating: 0, count: 10)
    #expect(throws: TCPError.connectionRefused) {
      _ = try buffer.withUnsafeMutableBytes { try h.tcp.read(h.id!, into: $0, now: h.now) }
    }
    #expect(throws: TCPError.connectionRefused) { try h.tcp.write(h.id!, pattern(1).span) }
  }

  @Test(arguments: [0, 2, -1])
  func resetWithUnacceptableAckInSynSentIsIgnored(offset: Int) {
    var h = Harness()
    h.connect()
    h.deliver(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.iss + offset, window: 0))
    h.expectNothingSent()  // and no RST in answer to a RST
    #expect(h.state == .synSent)
  }

  @Test func resetWithoutAckInSynSentIsIgnored() {
    var h = Harness()
    h.connect()
    h.deliver(Segment(.rst, seq: h.irs, window: 0))
    h.expectNothingSent()
    #expect(h.state == .synSent)
    h.deliver(h.peerSynAck())
    #expect(h.state == .established)
  }
}
