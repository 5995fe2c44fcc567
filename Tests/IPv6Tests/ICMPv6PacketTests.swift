import IPv6
import NetCore
import Testing

/// ICMPv6 messages (RFC 4443): the view over captured messages, the pseudo-header checksum,
/// and messages written byte for byte as Linux writes them.
struct ICMPv6PacketTests {
  /// Every ICMPv6 message of the capture verifies.
  @Test(arguments: [
    LinuxCaptures.detectionSolicitation, LinuxCaptures.routerSolicitation,
    LinuxCaptures.routerAdvertisement, LinuxCaptures.neighbourSolicitation,
    LinuxCaptures.neighbourAdvertisement, LinuxCaptures.echoRequest, LinuxCaptures.echoReply,
    LinuxCaptures.portUnreachable, LinuxCaptures.unknownNextHeaderProblem,
    LinuxCaptures.packetTooBig, LinuxCaptures.timeExceeded, LinuxCaptures.redirect,
  ])
  func capturedMessagesVerify(capture: [UInt8]) throws {
    let packet = try IPv6Packet(checking: capture.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    #expect(message.bytes.count == packet.payloadLength)
  }

  @Test func echoFields() throws {
    let packet = try IPv6Packet(checking: LinuxCaptures.echoRequest.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    #expect(message.type == .echoRequest && message.code == 0)
    #expect(message.header.identifier == 0x02e9 && message.header.sequence == 1)
    #expect(message.body.count == 56)
  }

  @Test func refusesBadChecksumsAndShortMessages() throws {
    let packet = try IPv6Packet(checking: LinuxCaptures.echoRequest.span)
    // The right bytes with another address in the pseudo-header.
    #expect(throws: WireError.badChecksum) {
      _ = try ICMPv6Packet(
        checking: packet.payload, source: LinuxCaptures.globalR, destination: packet.destination)
    }
    var flipped = LinuxCaptures.echoRequest
    flipped[60] ^= 0x01
    let flippedPacket = try IPv6Packet(checking: flipped.span)
    #expect(throws: WireError.badChecksum) {
      _ = try ICMPv6Packet(
        checking: flippedPacket.payload, source: flippedPacket.source,
        destination: flippedPacket.destination)
    }
    let short: [UInt8] = [128, 0, 0, 0, 0, 0, 0]
    #expect(throws: WireError.truncated) {
      _ = try ICMPv6Packet(
        checking: short.span, source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB)
    }
  }

  @Test func writesTheCapturedEchoReply() throws {
    // B's reply: the request's identifier, sequence and data, from B to A.
    let request = try IPv6Packet(checking: LinuxCaptures.echoRequest.span)
    let message = try ICMPv6Packet(
      checking: request.payload, source: request.source, destination: request.destination)
    let reply = icmpv6Message(
      .echo(reply: true, identifier: message.header.identifier, sequence: message.header.sequence),
      body: message.body.copyToArray(), source: LinuxCaptures.globalB,
      destination: LinuxCaptures.globalA)
    #expect(reply == icmpv6Bytes(of: LinuxCaptures.echoReply))
  }

  @Test func writesTheCapturedErrors() throws {
    // Port unreachable and parameter problem quote the whole offending packet.
    let unreachable = icmpv6Message(
      ICMPv6Header(
        type: .destinationUnreachable, code: ICMPv6UnreachableCode.portUnreachable.rawValue),
      body: LinuxCaptures.udpToClosedPort, source: LinuxCaptures.globalB,
      destination: LinuxCaptures.globalA)
    #expect(unreachable == icmpv6Bytes(of: LinuxCaptures.portUnreachable))
    let problem = icmpv6Message(
      ICMPv6Header(
        type: .parameterProblem, code: ICMPv6ParameterProblemCode.unrecognizedNextHeader.rawValue,
        restOfHeader: 6),
      body: LinuxCaptures.unknownNextHeader, source: LinuxCaptures.globalB,
      destination: LinuxCaptures.globalA)
    #expect(problem == icmpv6Bytes(of: LinuxCaptures.unknownNextHeaderProblem))
  }

  @Test func packetTooBigCarriesTheMTU() throws {
    let packet = try IPv6Packet(checking: LinuxCaptures.packetTooBig.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    #expect(message.type == .packetTooBig && message.restOfHeader == 1280)
    // RFC 4443 §2.4 c: the quote fills the minimum MTU.
    #expect(packet.bytes.count == 1280)
    #expect(IPv6Address(message.body, at: 24) == IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3))
  }

  @Test func types() {
    #expect(ICMPv6Type.packetTooBig.isError && ICMPv6Type.parameterProblem.isError)
    #expect(!ICMPv6Type.echoRequest.isError && !ICMPv6Type.redirect.isError)
    #expect(ICMPv6Type(rawValue: 127).isError && !ICMPv6Type(rawValue: 200).isError)
  }
}
