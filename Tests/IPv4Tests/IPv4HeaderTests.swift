import IPv4
import NetCore
import Testing

/// Writing IPv4 headers: byte-exact against the captures, and round trips through the view.
struct IPv4HeaderTests {
  typealias C = LinuxCaptures

  func emit(_ header: IPv4Header) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: IPv4Header.length)
    var span = bytes.mutableSpan
    header.emit(into: &span)
    return bytes
  }

  @Test func emitReproducesCapturedHeaders() throws {
    let captures = [
      C.echoRequest, C.echoReply, C.smallEchoRequest, C.udpToClosedPort, C.portUnreachable,
      C.broadcastEchoRequest,
    ]
    for capture in captures + C.fragmentedRequest + C.fragmentedReply {
      let header = try IPv4Packet(checking: capture.span).header
      #expect(emit(header) == Array(capture[..<20]))
    }
  }

  @Test func emitsEveryField() {
    let header = IPv4Header(
      source: IPv4Address(192, 0, 2, 1), destination: IPv4Address(198, 51, 100, 7),
      protocolNumber: .udp, payloadLength: 100, identification: 0xBEEF, typeOfService: 0xB8,
      timeToLive: 3, dontFragment: true, moreFragments: true, fragmentOffset: 8 * 0x1234)
    let bytes = emit(header)
    #expect(bytes[0] == 0x45)
    #expect(bytes[1] == 0xB8)
    #expect(bytes[2] == 0 && bytes[3] == 120)
    #expect(bytes[4] == 0xBE && bytes[5] == 0xEF)
    #expect(bytes[6] == 0x60 | 0x12 && bytes[7] == 0x34)
    #expect(bytes[8] == 3 && bytes[9] == 17)
    #expect(Array(bytes[12..<20]) == [192, 0, 2, 1, 198, 51, 100, 7])
    #expect(InternetChecksum.compute(bytes.span) == 0)
  }

  @Test(arguments: [
    (false, false, 0), (true, false, 0), (false, true, 0), (false, true, 1480),
    (false, false, 65528), (true, true, 8),
  ])
  func roundTripsThroughTheView(dontFragment: Bool, moreFragments: Bool, offset: Int) throws {
    var random = PseudoRandomGenerator(seed: UInt64(offset))
    let payload = randomBytes(27, &random)
    let header = IPv4Header(
      source: IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())),
      destination: IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())),
      protocolNumber: IPProtocolNumber(rawValue: 99), payloadLength: payload.count,
      identification: UInt16(truncatingIfNeeded: random.next()), typeOfService: 0x2E,
      timeToLive: 255, dontFragment: dontFragment, moreFragments: moreFragments,
      fragmentOffset: offset)
    let packet = buffer(payload)
    header.prepend(to: packet)
    let bytes = packet.withBytes { $0.copyToArray() }
    #expect(bytes.count == 47)
    let parsed = try IPv4Packet(checking: bytes.span)
    #expect(parsed.header == header)
    #expect(parsed.payload.copyToArray() == payload)
  }

  @Test func constants() {
    #expect(IPv4Header.length == 20)
    #expect(IPv4Header.maximumDatagramLength == 65535)
    #expect(IPv4Header.defaultTimeToLive == 64)
    #expect(IPProtocolNumber.icmp.rawValue == 1)
    #expect(IPProtocolNumber.tcp.rawValue == 6)
    #expect(IPProtocolNumber.udp.rawValue == 17)
  }
}
