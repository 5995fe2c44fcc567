import IPv6
import NetCore
import TCP
import Testing
import UDP

/// The pseudo-header sums of RFC 8200 §8.1 against Linux's own checksums, and the stack's
/// answers to Linux's packets against the kernel's answers to the same packets.
struct LinuxIPv6CaptureTests {
  typealias C = LinuxIPv6Captures
  static let va = IPAddress.v6(DualStackWire.ipv6A)
  static let vb = IPAddress.v6(DualStackWire.ipv6B)

  @Test func linuxTCPSynChecksumVerifiesOverTheIPv6PseudoHeader() throws {
    let bytes = C.transport(C.tcpSyn)
    let segment = try TCPSegment(checking: bytes.span)
    let mss = segment.options.maximumSegmentSize
    #expect(mss == 1440)
    let valid = segment.checksumIsValid(source: Self.va, destination: Self.vb)
    #expect(valid)
    // Another address, or the IPv4 sum of the same segment, fails it.
    let other = IPAddress.v6(IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 3))
    let otherAddress = segment.checksumIsValid(source: other, destination: Self.vb)
    #expect(!otherAddress)
    let overIPv4 = segment.checksumIsValid(
      source: .v4(IPv4Address(10, 0, 0, 1)), destination: .v4(IPv4Address(10, 0, 0, 2)))
    #expect(!overIPv4)
  }

  @Test func linuxUDPChecksumVerifiesAndIsReproduced() throws {
    let bytes = C.transport(C.udpHello)
    let datagram = try UDPDatagram(checking: bytes.span)
    let valid = datagram.checksumIsValid(source: Self.va, destination: Self.vb)
    #expect(valid)
    let otherAddress = datagram.checksumIsValid(source: Self.vb, destination: .v6(.loopback))
    #expect(!otherAddress)
    // The same datagram emitted by the stack is Linux's, checksum 0x4280 included.
    let packet = PacketBuffer(copying: Array("hello netstack\n".utf8).span)
    UDPHeader(sourcePort: 40000, destinationPort: 7777)
      .prepend(to: packet, source: Self.va, destination: Self.vb)
    #expect(packet.withBytes { $0.copyToArray() } == bytes)
  }

  /// RFC 8200 §8.1: IPv6 has no "no checksum"; a zero UDP checksum is discarded (IPv4 allows
  /// it, RFC 768).
  @Test func aZeroUDPChecksumIsRefusedOverIPv6Only() throws {
    var bytes = C.transport(C.udpHello)
    bytes[6] = 0
    bytes[7] = 0
    let datagram = try UDPDatagram(checking: bytes.span)
    let overIPv6 = datagram.checksumIsValid(source: Self.va, destination: Self.vb)
    #expect(!overIPv6)
    let overIPv4 = datagram.checksumIsValid(
      source: .v4(IPv4Address(10, 0, 0, 1)), destination: .v4(IPv4Address(10, 0, 0, 2)))
    #expect(overIPv4)
  }

  /// Linux's SYN to a closed port, given to the stack (IPv6 layer, then TCP): the stack's RST
  /// is, byte for byte, the one vb's kernel sent (RFC 9293 §3.10.7.1), checksum included.
  @Test func theStackAnswersLinuxsSynWithLinuxsReset() throws {
    var wire = DualStackWire()
    wire.recording = true
    wire.inject(toB: C.tcpSyn, version: 6)
    wire.run(until: wire.now + .seconds(1))
    let resets = wire.framesFromB.filter { $0.count > 2 + 40 && $0[0] == 6 && $0[2 + 6] == 6 }
    #expect(resets.count == 1)
    let reset = try #require(resets.first)
    #expect(Array(reset[(2 + 8)..<(2 + 40)]) == Array(C.tcpReset[8..<40]))  // addresses
    #expect(Array(reset[(2 + 40)...]) == C.transport(C.tcpReset))
    #expect(wire.b.tcp.counters.resetsSent == 1)
  }

  /// Linux's datagram, through the IPv6 layer and UDP, reaches the endpoint on its port with
  /// its IPv6 source.
  @Test func theStackTakesLinuxsDatagram() throws {
    var wire = DualStackWire()
    let endpoint = try wire.b.udp.bind(port: 7777)
    wire.inject(toB: C.udpHello, version: 6)
    let taken = wire.b.udp.receive(from: endpoint)
    let received = try #require(taken)
    #expect(received.source == Self.va && received.sourcePort == 40000)
    #expect(received.destination == Self.vb)
    #expect(received.payload == Array("hello netstack\n".utf8))
  }
}
