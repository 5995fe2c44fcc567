import NetCore
import Testing

@testable import TCP

/// Negotiating the SYN options: window scaling only when both ends offer it and never on the
/// window of a SYN (RFC 7323 §2.2–2.3), SACK only when both permit it (RFC 2018 §2), the MSS
/// (RFC 9293 §3.7.1, RFC 6691: default 536, within our own MTU).
struct OptionNegotiationTests {
  @Test func scalingWhenBothOffer() {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, windowScale: 5)
    h.receiveSyn()  // the SYN-ACK carries our shift, 7
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, window: 100))
    h.id = h.tcp.accept(h.listener!)
    #expect(h.connection?.sender.window == 100 << 5)
    // Our window field is scaled: 4 MiB >> 7.
    #expect(h.ourWindow == 32768)
    #expect(h.write(pattern(10)) == 10)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, window: 32768, payload: pattern(10)))
  }

  @Test func noScalingWhenThePeerDoesNotOffer() {
    var h = Harness.listening()
    h.receiveSyn()  // the SYN-ACK has no window scale
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, window: 100))
    h.id = h.tcp.accept(h.listener!)
    #expect(h.connection?.sender.window == 100)
    #expect(h.connection?.receiveWindowShift == 0)
    #expect(h.write(pattern(10)) == 10)
    h.expectSent(
      Segment([.ack, .psh], seq: h.ourNext, ack: h.peerNext, window: 65535, payload: pattern(10)))
  }

  @Test func noScalingWhenWeDoNotOffer() {
    var configuration = TCPConfiguration()
    configuration.windowScaling = false
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = .with(mss: 1460, windowScale: 5)
    h.receiveSyn()
    #expect(h.connection?.windowScalingEnabled == false)
    #expect(h.connection?.sendWindowShift == 0)
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.ourNext, window: 100))
    #expect(h.connection?.sender.window == 100)
  }

  @Test func activeOpenWithoutScalingInTheSynAckDropsOurShiftToo() {
    var h = Harness()
    h.connect()  // our SYN offers a shift of 7
    // The peer does not: both directions are unscaled (RFC 7323 §2.2), so our ACK's window
    // field is 65535, not 4 MiB >> 7.
    h.deliver(h.peerSynAck())
    h.expectSent(Segment(.ack, seq: h.iss + 1, ack: h.irs + 1, window: 65535))
    #expect(h.connection?.receiveWindowShift == 0)
  }

  @Test func activeOpenWithoutOfferingIgnoresThePeersScale() {
    var configuration = TCPConfiguration()
    configuration.windowScaling = false
    configuration.timestamps = false
    configuration.selectiveAcknowledgments = false
    var h = Harness(configuration: configuration)
    h.connect()  // only the MSS
    h.peerSynOptions = .with(mss: 1460, windowScale: 9, sackPermitted: true)
    h.deliver(h.peerSynAck())
    h.expectSent(Segment(.ack, seq: h.iss + 1, ack: h.irs + 1, window: 65535))
    #expect(h.connection?.sendWindowShift == 0)
    #expect(h.connection?.sackEnabled == false)
  }

  @Test func synWindowIsNeverScaled() {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, windowScale: 7)
    h.peerWindow = 1000
    h.receiveSyn()
    // Our SYN-ACK's field is 65535 (receiveSyn checked it), not 4 MiB >> 7; the peer's 1000
    // is 1000 bytes, not 1000 << 7.
    #expect(h.connection?.sender.window == 1000)
  }

  @Test func synAckWindowIsNeverScaledAndLimitsWhatWeSend() {
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Harness(configuration: configuration)
    h.peerSynOptions = .with(mss: 1460, windowScale: 7)
    h.connect()
    h.peerWindow = 1000
    h.deliver(h.peerSynAck())
    h.peerNext = h.irs + 1
    #expect(h.connection?.sender.window == 1000)
    _ = h.takeSent()
    #expect(h.write(pattern(3000)) == 3000)
    h.expectSent(
      Segment([.ack], seq: h.iss + 1, ack: h.peerNext, window: 32768, payload: pattern(1000)))
    // The first scaled window, 100 << 7, opens it.
    h.deliver(Segment(.ack, seq: h.peerNext, ack: h.iss + 1001, window: 100))
    #expect(h.connection?.sender.window == 12800)
    #expect(h.takeSent().map(\.payload.count) == [1460, 540])
  }

  @Test func sackOnlyWhenBothPermit() {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, sackPermitted: true)
    h.establishPassive()
    #expect(h.connection?.sackEnabled == true)

    var configuration = TCPConfiguration()
    configuration.selectiveAcknowledgments = false
    var off = Harness.listening(configuration: configuration)
    off.peerSynOptions = .with(mss: 1460, sackPermitted: true)
    off.establishPassive()  // the SYN-ACK has no SACK-permitted
    #expect(off.connection?.sackEnabled == false)

    var peerOff = Harness()
    peerOff.connect()  // we permit SACK
    peerOff.deliver(peerOff.peerSynAck())
    #expect(peerOff.connection?.sackEnabled == false)
  }

  @Test(
    arguments: [
      (UInt16?.none, 536), (1000, 1000), (1460, 1460), (9000, 1460), (65535, 1460), (100, 100),
    ] as [(UInt16?, Int)])
  func sendMSSIsThePeersWithinOurMTU(peer: UInt16?, expected: Int) {
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = .with(mss: peer)
    h.establishPassive()
    #expect(h.connection?.sendMaximumSegmentSize == expected)
    // Data goes out in segments of exactly that size (the initial window allows ten).
    #expect(h.write(pattern(3 * expected)) == 3 * expected)
    #expect(h.takeSent().map(\.payload.count) == [expected, expected, expected])
  }

  @Test func ourMSSFollowsTheLinkMTU() {
    var h = Harness.listening()
    h.network.maximumPayloadSize = 8980  // a 9000-byte jumbo MTU
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 9000)))
    let synAck = h.takeSent()
    #expect(synAck.first?.options.maximumSegmentSize == 8960)
    #expect(h.connection?.sendMaximumSegmentSize == 8960)
  }

  @Test func timestampsOnlyWhenBothOffer() {
    var h = Harness.listening()
    h.peerSynOptions = .with(mss: 1460, timestamp: (h.peerClock, 0))
    h.establishPassive()
    #expect(h.connection?.timestampsEnabled == true)

    var plain = Harness.listening()
    plain.establishPassive()  // no timestamps offered: none in the SYN-ACK
    #expect(plain.connection?.timestampsEnabled == false)
    #expect(plain.write(pattern(10)) == 10)
    #expect(plain.takeSent().first?.options == TCPOptions())

    var configuration = TCPConfiguration()
    configuration.timestamps = false
    var off = Harness.listening(configuration: configuration)
    off.peerSynOptions = .with(mss: 1460, timestamp: (off.peerClock, 0))
    off.receiveSyn()  // the SYN-ACK has none
    #expect(off.connection?.timestampsEnabled == false)
  }
}
