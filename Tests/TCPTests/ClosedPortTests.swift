import NetCore
import Testing

@testable import TCP

/// Segments that find no connection (RFC 9293 §3.10.7.1, CLOSED: "all data in the incoming
/// segment is discarded ... An incoming segment containing a RST is discarded. An incoming
/// segment not containing a RST causes a RST to be sent in response"), LISTEN's rules for
/// what is not a SYN (§3.10.7.2), and segments dropped before demultiplexing.
struct ClosedPortTests {
  @Test func synToAClosedPortGetsResetAcknowledgingIt() {
    var h = Harness()
    h.deliver(Segment(.syn, seq: h.irs, options: .with(mss: 1460)))
    // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    h.expectSent(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.irs + 1, window: 0))
    #expect(h.tcp.counters.segmentsToClosedPort == 1)
    #expect(h.tcp.counters.resetsSent == 1)
  }

  @Test func segmentWithoutAckCountsDataAndFinInTheReset() {
    var h = Harness()
    h.deliver(Segment([.fin, .psh], seq: h.irs, payload: pattern(10)))
    h.expectSent(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.irs + 11, window: 0))
    h.deliver(Segment([], seq: h.irs))
    h.expectSent(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.irs, window: 0))
  }

  @Test func segmentWithAckGetsResetAtItsAcknowledgmentNumber() {
    var h = Harness()
    let acknowledgment = SequenceNumber(0xFFFF_FFF0)
    h.deliver(Segment([.ack, .psh], seq: h.irs, ack: acknowledgment, payload: pattern(100)))
    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    h.expectSent(Segment(.rst, seq: acknowledgment, window: 0))
    h.deliver(Segment([.syn, .ack], seq: h.irs, ack: acknowledgment + 20))
    h.expectSent(Segment(.rst, seq: acknowledgment + 20, window: 0))
  }

  @Test(arguments: [TCPFlags.rst, [.rst, .ack], [.rst, .syn], [.rst, .fin]])
  func resetIsNeverAnsweredWithReset(flags: TCPFlags) {
    var h = Harness()
    h.deliver(Segment(flags, seq: h.irs, ack: SequenceNumber(5), window: 0))
    h.expectNothingSent()
    #expect(h.tcp.counters.resetsSent == 0)
  }

  @Test func listenIgnoresReset() {
    var h = Harness.listening()
    h.deliver(Segment(.rst, seq: h.irs, window: 0))
    h.deliver(Segment([.rst, .ack], seq: h.irs, ack: SequenceNumber(77), window: 0))
    h.expectNothingSent()
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func listenResetsABareAck() {
    var h = Harness.listening()
    h.deliver(Segment(.ack, seq: h.irs, ack: SequenceNumber(123_456)))
    // §3.10.7.2: "Any acknowledgment is bad if it arrives on a connection still in the LISTEN
    // state. An acceptable reset segment should be formed ... <SEQ=SEG.ACK><CTL=RST>".
    h.expectSent(Segment(.rst, seq: SequenceNumber(123_456), window: 0))
    #expect(h.tcp.connectionCount == 0)
    #expect(h.tcp.counters.synCookiesRejected == 1)  // it was checked as a cookie first
  }

  @Test func listenResetsASynAck() {
    var h = Harness.listening()
    h.deliver(Segment([.syn, .ack], seq: h.irs, ack: SequenceNumber(99)))
    h.expectSent(Segment(.rst, seq: SequenceNumber(99), window: 0))
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func listenDropsSegmentsWithNeitherSynNorAck() {
    var h = Harness.listening()
    h.deliver(Segment(.fin, seq: h.irs))
    h.deliver(Segment(.psh, seq: h.irs, payload: pattern(5)))
    h.expectNothingSent()
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func listenerBoundToAnotherAddressDoesNotMatch() throws {
    var h = Harness()
    h.listener = try h.tcp.listen(port: Harness.serverPort, address: .v4(IPv4Address(10, 0, 0, 9)))
    h.deliver(Segment(.syn, seq: h.irs))
    h.expectSent(Segment([.rst, .ack], seq: SequenceNumber(0), ack: h.irs + 1, window: 0))
  }

  @Test func segmentForAnAbortedConnectionIsReset() {
    var h = Harness.listening()
    h.establishPassive()
    h.abort()
    h.expectSent(Segment([.rst, .ack], seq: h.ourNext, ack: h.peerNext, window: 0))
    h.deliver(h.peerAck())
    h.expectSent(Segment(.rst, seq: h.ourNext, window: 0))
  }

  @Test func badChecksumIsDroppedWithoutAnswer() {
    var h = Harness.listening()
    h.deliver(Segment(.syn, seq: h.irs), corruptChecksum: true)
    h.expectNothingSent()
    #expect(h.tcp.counters.droppedBadChecksum == 1)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func checksumVerifiedByTheDeviceIsNotCheckedAgain() {
    var h = Harness.listening()
    let header = TCPHeader(
      sourcePort: h.remotePort, destinationPort: h.localPort, sequenceNumber: h.irs,
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 65535,
      options: .with(mss: 1460))
    let packet = PacketBuffer(capacity: 256)
    header.prepend(
      to: packet, source: .v4(Harness.remoteAddress), destination: .v4(Harness.localAddress),
      offloadChecksum: true)
    // The checksum field holds only the pseudo-header sum, as with receive offload.
    h.deliver(tcpBytes: packet.withBytes { $0.copyToArray() }, checksumVerified: true)
    #expect(h.state == .synReceived)
  }

  @Test func malformedHeadersAreDroppedAndCounted() {
    var h = Harness.listening()
    let header = TCPHeader(
      sourcePort: h.remotePort, destinationPort: h.localPort, sequenceNumber: h.irs,
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 65535,
      options: .with(mss: 1460))
    let packet = PacketBuffer(capacity: 256)
    header.prepend(
      to: packet, source: .v4(Harness.remoteAddress), destination: .v4(Harness.localAddress))
    let good = packet.withBytes { $0.copyToArray() }
    // Shorter than a header.
    h.deliver(tcpBytes: Array(good[..<19]))
    #expect(h.tcp.counters.droppedTruncated == 1)
    // Data offset past the end of the segment.
    var long = good
    long[12] = 0xF0
    h.deliver(tcpBytes: long)
    #expect(h.tcp.counters.droppedTruncated == 2)
    // Data offset below five words.
    var short = good
    short[12] = 0x40
    h.deliver(tcpBytes: short)
    #expect(h.tcp.counters.droppedBadHeader == 1)
    // An option whose length runs past the options.
    var badOption = good
    badOption[21] = 5
    h.deliver(tcpBytes: badOption, checksumVerified: true)
    #expect(h.tcp.counters.droppedBadHeader == 2)
    h.expectNothingSent()
    #expect(h.tcp.counters.segmentsReceived == 4)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func broadcastAndMulticastAreNotTCP() {
    // RFC 1122 §4.2.3.10: TCP is unicast; a SYN to a broadcast address is dropped.
    var h = Harness.listening()
    h.deliver(Segment(.syn, seq: h.irs), to: IPv4Address(255, 255, 255, 255))
    h.deliver(Segment(.syn, seq: h.irs), to: IPv4Address(224, 0, 0, 1))
    h.deliver(Segment(.syn, seq: h.irs), from: IPv4Address(224, 0, 0, 1))
    h.expectNothingSent()
    #expect(h.tcp.counters.droppedBadHeader == 3)
  }
}
