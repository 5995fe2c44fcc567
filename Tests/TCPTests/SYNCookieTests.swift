import NetCore
import Testing

@testable import TCP

/// SYN cookies (RFC 4987 §3.6): with the SYN backlog full, the SYN-ACK's sequence number
/// encodes what the connection needs and no state is kept; the final ACK rebuilds the
/// connection (MSS from the cookie, window scale and SACK-permitted from the low bits of our
/// timestamp); a forged or expired cookie is refused with RST.
struct SYNCookieTests {
  /// A listener with a SYN backlog of one, already taken by a half-open connection from
  /// another client port; the next SYN (from port 40000) gets a cookie.
  static func backlogFull(configuration base: TCPConfiguration = TCPConfiguration()) -> Harness {
    var configuration = base
    configuration.synBacklog = 1
    var h = Harness.listening(configuration: configuration)
    h.remotePort = 39999
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    _ = h.takeSent()
    h.remotePort = Harness.clientPort
    #expect(h.tcp.connectionCount == 1)
    return h
  }

  @Test func fullBacklogAnswersWithACookieAndKeepsNoState() {
    var h = Self.backlogFull()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    let sent = h.takeSent()
    #expect(sent.count == 1)
    guard let synAck = sent.first else { return }
    #expect(synAck.flags == [.syn, .ack])
    #expect(synAck.acknowledgment == h.irs + 1)
    #expect(synAck.window == 65535)
    // Without timestamps, only the MSS: nothing else could be remembered.
    #expect(synAck.options == .with(mss: Harness.ourMSS))
    #expect(
      h.tcp.cookies.check(synAck.sequence, for: h.tuple, clientSequence: h.irs, now: h.now)
        == SYNCookieGenerator.Decoded(maximumSegmentSize: 1460))
    #expect(h.tcp.connectionCount == 1)
    #expect(h.tcp.counters.synCookiesSent == 1)
  }

  @Test func aCookieWithOtherMSSBitsIsRefused() {
    var h = Self.backlogFull()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 536)))
    guard let synAck = h.takeSent().first else {
      Issue.record("no SYN-ACK")
      return
    }
    #expect(
      h.tcp.cookies.check(synAck.sequence, for: h.tuple, clientSequence: h.irs, now: h.now)
        == SYNCookieGenerator.Decoded(maximumSegmentSize: 536))
    // A client that sets the MSS index bits to claim 65495 gets nothing: they are hashed.
    let forged = SequenceNumber(synAck.sequence.rawValue | 0x0700_0000)
    #expect(h.tcp.cookies.check(forged, for: h.tuple, clientSequence: h.irs, now: h.now) == nil)
  }

  @Test func finalAckRebuildsTheConnection() {
    var h = Self.backlogFull()
    h.peerSynOptions = .with(mss: 1400)
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    h.iss = h.takeSent().first?.sequence ?? SequenceNumber(0)
    h.ourNext = h.iss + 1
    h.peerNext = h.irs + 1
    h.deliver(
      Segment([.ack, .psh], seq: h.peerNext, ack: h.ourNext, payload: pattern(10)))
    h.peerNext += 10
    #expect(h.state == .established)
    #expect(h.tcp.counters.synCookiesAccepted == 1)
    // The MSS table rounds 1400 down to 1300.
    #expect(h.connection?.sendMaximumSegmentSize == 1300)
    h.id = h.tcp.accept(h.listener!)
    #expect(h.id != nil)
    #expect(h.read() == pattern(10))
    #expect(h.write(pattern(5)) == 5)
    h.expectSent(Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, payload: pattern(5)))
  }

  @Test func timestampsCarryWindowScaleAndSack() {
    var h = Self.backlogFull()
    h.peerSynOptions = h.fullOptions()  // MSS 1460, window scale 7, SACK, timestamps
    h.deliver(Segment(.syn, seq: h.irs, options: h.peerSynOptions))
    guard let synAck = h.takeSent().first, let timestamp = synAck.options.timestamp else {
      Issue.record("no SYN-ACK with timestamps")
      return
    }
    #expect(synAck.options.maximumSegmentSize == Harness.ourMSS)
    #expect(synAck.options.windowScale == 7)
    #expect(synAck.options.sackPermitted)
    #expect(timestamp.echoReply == h.peerClock)
    #expect(
      timestamp.value & 0x3F
        == SYNCookieGenerator.encodeOptions(windowScale: 7, sackPermitted: true))
    // Never ahead of the clock the connection will use, so that PAWS at the peer holds.
    #expect(Int32(bitPattern: h.ourClock &- timestamp.value) >= 0)
    h.iss = synAck.sequence
    h.now += .milliseconds(30)
    h.deliver(
      Segment(
        .ack, seq: h.irs + 1, ack: h.iss + 1, window: 100,
        options: .with(timestamp: (h.peerClock + 30, timestamp.value))))
    #expect(h.state == .established)
    let connection = h.connection
    #expect(connection?.sendWindowShift == 7)
    #expect(connection?.sender.window == 100 << 7)
    #expect(connection?.receiveWindowShift == 7)
    #expect(connection?.sackEnabled == true)
    #expect(connection?.timestampsEnabled == true)
    #expect(connection?.timestampRecent == h.peerClock + 30)
  }

  @Test func forgedCookieIsReset() {
    var h = Self.backlogFull()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    let cookie = h.takeSent().first?.sequence ?? SequenceNumber(0)
    h.deliver(Segment(.ack, seq: h.irs + 1, ack: cookie + 2))
    h.expectSent(Segment(.rst, seq: cookie + 2, window: 0))
    // An ACK whose sequence number does not match the client's SYN fails too.
    h.deliver(Segment(.ack, seq: h.irs + 2, ack: cookie + 1))
    h.expectSent(Segment(.rst, seq: cookie + 1, window: 0))
    #expect(h.tcp.counters.synCookiesRejected == 2)
    #expect(h.tcp.connectionCount == 1)
  }

  @Test func cookieExpiresAfterTwoPeriods() {
    var h = Self.backlogFull()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    let cookie = h.takeSent().first?.sequence ?? SequenceNumber(0)
    // Valid through the next 64-second period…
    #expect(
      h.tcp.cookies.check(cookie, for: h.tuple, clientSequence: h.irs, now: h.now + .seconds(64))
        != nil)
    // …not after.
    h.now += .seconds(128)
    h.deliver(Segment(.ack, seq: h.irs + 1, ack: cookie + 1))
    h.expectSent(Segment(.rst, seq: cookie + 1, window: 0))
    #expect(h.tcp.counters.synCookiesRejected == 1)
  }

  @Test func withoutCookiesAFullBacklogDropsTheSyn() {
    var configuration = TCPConfiguration()
    configuration.synCookies = false
    var h = Self.backlogFull(configuration: configuration)
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    h.expectNothingSent()
    #expect(h.tcp.counters.listenOverflows == 1)
  }

  @Test(arguments: [
    (UInt16(536), UInt16(536)), (1000, 536), (1300, 1300), (1459, 1440), (1460, 1460),
    (9000, 1460),
  ])
  func cookieRemembersTheMSSFromItsTable(peer: UInt16, remembered: UInt16) {
    var h = Self.backlogFull()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: peer)))
    let cookie = h.takeSent().first?.sequence ?? SequenceNumber(0)
    #expect(
      h.tcp.cookies.check(cookie, for: h.tuple, clientSequence: h.irs, now: h.now)?
        .maximumSegmentSize == remembered)
  }

  @Test func optionBitsRoundTrip() {
    for scale in [nil, 0, 7, 14] as [UInt8?] {
      for sack in [false, true] {
        let bits = SYNCookieGenerator.encodeOptions(windowScale: scale, sackPermitted: sack)
        #expect(bits < 64)
        let decoded = SYNCookieGenerator.decodeOptions(0xABCD_0000 | bits)
        #expect(decoded.windowScale == scale)
        #expect(decoded.sackPermitted == sack)
      }
    }
  }
}
