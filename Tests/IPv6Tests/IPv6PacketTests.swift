import IPv6
import NetCore
import Testing

/// The fixed header: views of captured packets, every malformed case, and writing headers.
struct IPv6PacketTests {
  @Test func parsesCapturedEchoRequest() throws {
    let packet = try IPv6Packet(checking: LinuxCaptures.echoRequest.span)
    #expect(packet.source == LinuxCaptures.globalA)
    #expect(packet.destination == LinuxCaptures.globalB)
    #expect(packet.nextHeader == .icmpv6)
    #expect(packet.hopLimit == 64)
    #expect(packet.payloadLength == 64)
    #expect(packet.payload.count == 64)
    #expect(packet.trafficClass == 0)
    let header = packet.header
    #expect(header.payloadLength == 64 && header.flowLabel == packet.flowLabel)
  }

  @Test func cutsLinkPadding() throws {
    let padded = LinuxCaptures.unknownNextHeader + [0, 0, 0, 0, 0, 0]
    let packet = try IPv6Packet(checking: padded.span)
    #expect(packet.bytes.count == LinuxCaptures.unknownNextHeader.count)
    #expect(packet.payload.count == 10)
  }

  @Test func refusesMalformedPackets() {
    func error(_ bytes: [UInt8]) -> WireError? {
      do {
        _ = try IPv6Packet(checking: bytes.span)
        return nil
      } catch { return error }
    }
    let good = LinuxCaptures.echoRequest
    #expect(error([]) == .truncated)
    #expect(error(Array(good[..<39])) == .truncated)
    var version4 = good
    version4[0] = 0x45
    #expect(error(version4) == .unsupported)
    var version0 = good
    version0[0] = 0x00
    #expect(error(version0) == .unsupported)
    // A payload length past the bytes.
    #expect(error(Array(good.dropLast())) == .truncated)
    var long = good
    long[4] = 0xff
    #expect(error(long) == .truncated)
    // A fixed header alone with payload length 0 is a packet (of nothing).
    var empty = Array(good[..<40])
    empty[4] = 0
    empty[5] = 0
    #expect(error(empty) == nil)
  }

  @Test func headerRoundTrip() throws {
    let header = IPv6Header(
      source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .udp,
      payloadLength: 3, hopLimit: 17, trafficClass: 0xb8, flowLabel: 0xABCDE)
    let bytes = ipv6Packet(header, payload: [1, 2, 3])
    #expect(bytes[0] == 0x6b && bytes[1] == 0x8a && bytes[2] == 0xbc && bytes[3] == 0xde)
    let packet = try IPv6Packet(checking: bytes.span)
    #expect(packet.header == header)
    #expect(packet.payload.copyToArray() == [1, 2, 3])
  }

  @Test func writesTheCapturedHeader() throws {
    // The echo request's header, written again from its parsed value, byte for byte.
    let parsed = try IPv6Packet(checking: LinuxCaptures.echoRequest.span).header
    let written = ipv6Packet(parsed, payload: Array(LinuxCaptures.echoRequest[40...]))
    #expect(written == LinuxCaptures.echoRequest)
  }

  /// The pseudo-header of RFC 8200 §8.1 against the kernel's own TCP and UDP checksums.
  @Test(arguments: [LinuxCaptures.tcpSYN, LinuxCaptures.tcpSYNACK, LinuxCaptures.udpToClosedPort])
  func pseudoHeaderChecksumVerifiesCapturedTransports(capture: [UInt8]) throws {
    let packet = try IPv6Packet(checking: capture.span)
    var sum = InternetChecksum.ipv6PseudoHeader(
      source: packet.source, destination: packet.destination, nextHeader: packet.nextHeader,
      length: packet.payload.count)
    sum.add(packet.payload)
    #expect(sum.isValid)
    var other = InternetChecksum.ipv6PseudoHeader(
      source: packet.destination, destination: packet.destination, nextHeader: packet.nextHeader,
      length: packet.payload.count)
    other.add(packet.payload)
    #expect(!other.isValid)
  }
}
