import IPv4
import NetCore
import Testing

/// The IPv4 packet view: captured packets parsed field by field, and every malformed header.
struct IPv4PacketTests {
  typealias C = LinuxCaptures

  @Test func parsesCapturedEchoRequest() throws {
    let bytes = C.echoRequest
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.headerLength == 20)
    #expect(packet.typeOfService == 0)
    #expect(packet.totalLength == 84)
    #expect(packet.identification == 0x20D0)
    #expect(packet.dontFragment == true)
    #expect(packet.moreFragments == false)
    #expect(packet.fragmentOffset == 0)
    #expect(packet.isFragment == false)
    #expect(packet.timeToLive == 64)
    #expect(packet.protocolNumber == .icmp)
    #expect(packet.source == C.va)
    #expect(packet.destination == C.vb)
    #expect(packet.payload.count == 64)
    #expect(packet.payload.copyToArray() == Array(bytes[20...]))
    #expect(
      packet.header
        == IPv4Header(
          source: C.va, destination: C.vb, protocolNumber: .icmp, payloadLength: 64,
          identification: 0x20D0, typeOfService: 0, timeToLive: 64, dontFragment: true))
  }

  @Test func parsesCapturedPortUnreachable() throws {
    let bytes = C.portUnreachable
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.typeOfService == 0xC0)
    #expect(packet.identification == 0xED68)
    #expect(packet.dontFragment == false)
    #expect(packet.source == C.vb && packet.destination == C.va)
    #expect(packet.payload.count == 44)
  }

  @Test func parsesCapturedOptions() throws {
    let bytes = C.recordRouteRequest
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.headerLength == 60)
    #expect(packet.totalLength == 124)
    #expect(packet.payload.count == 64)
    #expect(packet.payload[0] == 8)  // the echo request follows the options
    #expect(packet.header.payloadLength == 64)
    let reply = C.recordRouteReply
    #expect(try IPv4Packet(checking: reply.span).headerLength == 60)
  }

  @Test func parsesCapturedFragments() throws {
    let expected: [(offset: Int, more: Bool, payload: Int)] = [
      (0, true, 1480), (1480, true, 1480), (2960, false, 48),
    ]
    for (bytes, want) in zip(C.fragmentedRequest, expected) {
      let packet = try IPv4Packet(checking: bytes.span)
      #expect(packet.identification == 0x216E)
      #expect(packet.fragmentOffset == want.offset)
      #expect(packet.moreFragments == want.more)
      #expect(packet.isFragment == true)
      #expect(packet.dontFragment == false)
      #expect(packet.payload.count == want.payload)
      #expect(packet.header.fragmentOffset == want.offset)
      #expect(packet.header.moreFragments == want.more)
    }
  }

  /// Link padding after the total length is cut off.
  @Test func cutsTrailingPadding() throws {
    let bytes = C.udpToClosedPort + [UInt8](repeating: 0, count: 10)
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.totalLength == 36)
    #expect(packet.bytes.count == 36)
    #expect(packet.payload.count == 16)
  }

  @Test func throwsTruncatedAtEveryShortLength() {
    for capture in [C.echoRequest, C.recordRouteRequest, C.udpToClosedPort] {
      for length in 0..<capture.count {
        #expect(ipv4ParseError(Array(capture[..<length])) == .truncated, "length \(length)")
      }
      #expect(ipv4ParseError(capture) == nil)
    }
  }

  @Test(arguments: [0 as UInt8, 1, 5, 6, 0xF])
  func throwsUnsupportedForOtherVersions(version: UInt8) {
    var bytes = C.echoRequest
    bytes[0] = version << 4 | 5
    fixHeaderChecksum(&bytes)
    #expect(ipv4ParseError(bytes) == .unsupported)
  }

  @Test(arguments: [0 as UInt8, 1, 2, 3, 4])
  func throwsBadLengthForHeaderLengthBelowFive(ihl: UInt8) {
    var bytes = C.echoRequest
    bytes[0] = 0x40 | ihl
    #expect(ipv4ParseError(bytes) == .badLength)
  }

  @Test func throwsTruncatedWhenTheHeaderLengthPassesTheBytes() {
    var bytes = Array(C.echoRequest[..<40])
    bytes[0] = 0x4F  // 60 bytes of header in 40 bytes
    #expect(ipv4ParseError(bytes) == .truncated)
    #expect(ipv4ParseError(Array(C.recordRouteRequest[..<59])) == .truncated)
  }

  @Test(arguments: [0, 1, 19])
  func throwsBadLengthWhenTotalLengthIsShorterThanTheHeader(totalLength: Int) {
    var bytes = C.echoRequest
    bytes[2] = UInt8(totalLength >> 8)
    bytes[3] = UInt8(totalLength & 0xFF)
    fixHeaderChecksum(&bytes)
    #expect(ipv4ParseError(bytes) == .badLength)
    // With options, a total length inside the options is as bad.
    var withOptions = C.recordRouteRequest
    withOptions[2] = 0
    withOptions[3] = 40
    fixHeaderChecksum(&withOptions)
    #expect(ipv4ParseError(withOptions) == .badLength)
  }

  @Test(arguments: [85, 1500, 65535])
  func throwsTruncatedWhenTotalLengthPassesTheBytes(totalLength: Int) {
    var bytes = C.echoRequest
    bytes[2] = UInt8(totalLength >> 8)
    bytes[3] = UInt8(totalLength & 0xFF)
    fixHeaderChecksum(&bytes)
    #expect(ipv4ParseError(bytes) == .truncated)
  }

  @Test func totalLengthOfJustTheHeaderIsAnEmptyPayload() throws {
    var bytes = C.echoRequest
    bytes[2] = 0
    bytes[3] = 20
    fixHeaderChecksum(&bytes)
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.payload.count == 0)
  }

  @Test func throwsBadChecksumForAnyHeaderByteChanged() {
    for index in 0..<20 where index != 0 && index != 2 && index != 3 {
      var bytes = C.echoRequest
      bytes[index] ^= 0x10
      #expect(ipv4ParseError(bytes) == .badChecksum, "byte \(index)")
    }
    var options = C.recordRouteRequest
    options[40] = 0x55  // inside the record-route data, covered by the checksum
    #expect(ipv4ParseError(options) == .badChecksum)
    // The header checksum does not cover the payload.
    var payload = C.echoRequest
    payload[60] ^= 0xFF
    #expect(ipv4ParseError(payload) == nil)
  }

  /// A 24-byte header with the given four option bytes, checksum fixed.
  func withOptions(_ options: [UInt8]) -> [UInt8] {
    var bytes = Array(C.udpToClosedPort[..<20]) + options + Array(C.udpToClosedPort[20...])
    bytes[0] = 0x40 | UInt8(bytes.count - C.udpToClosedPort.count + 20) / 4
    let total = bytes.count
    bytes[2] = UInt8(total >> 8)
    bytes[3] = UInt8(total & 0xFF)
    fixHeaderChecksum(&bytes)
    return bytes
  }

  @Test(arguments: [
    [0x01, 0x01, 0x01, 0x01] as [UInt8],  // NOPs
    [0x01, 0x01, 0x01, 0x00],  // NOPs, End of Options
    [0x00, 0xFF, 0xFF, 0xFF],  // End of Options, then anything
    [0x94, 0x04, 0x00, 0x00],  // Router Alert (RFC 2113)
    [0x07, 0x03, 0x04, 0x00],  // a 3-byte option, then End of Options
    [0x44, 0x04, 0x05, 0x00],  // a bare timestamp option
    [0x01, 0x07, 0x02, 0x01],  // NOP, a 2-byte option, NOP
  ])
  func acceptsWellFormedOptions(options: [UInt8]) throws {
    let bytes = withOptions(options)
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.headerLength == 24)
    #expect(packet.payload.count == 16)
  }

  @Test(arguments: [
    [0x07, 0x00, 0x00, 0x00] as [UInt8],  // length 0
    [0x07, 0x01, 0x00, 0x00],  // length 1
    [0x07, 0x05, 0x00, 0x00],  // runs past the header
    [0x01, 0x01, 0x07, 0x03],  // runs past the header by one
    [0x01, 0x01, 0x01, 0x07],  // no room for the length byte
    [0x44, 0xFF, 0x05, 0x00],  // length 255
    [0x01, 0x94, 0x04, 0x00],  // NOP then a 4-byte option in 3 bytes
  ])
  func throwsBadOptionForMalformedOptions(options: [UInt8]) {
    #expect(ipv4ParseError(withOptions(options)) == .badOption)
  }

  /// Random corruption of real packets never traps; whatever parses stays inside the bytes.
  @Test func survivesRandomCorruption() {
    var random = PseudoRandomGenerator(seed: 791)
    let captures = [C.echoRequest, C.recordRouteRequest, C.udpToClosedPort] + C.fragmentedRequest
    for _ in 0..<5000 {
      var bytes = captures[Int(random.next(below: UInt64(captures.count)))]
      for _ in 0..<Int(random.next(below: 4) + 1) {
        bytes[Int(random.next(below: UInt64(min(bytes.count, 64))))] = UInt8(
          truncatingIfNeeded: random.next())
      }
      if random.next(below: 2) == 0 { fixHeaderChecksum(&bytes) }
      bytes = Array(bytes[..<Int(random.next(below: UInt64(bytes.count + 1)))])
      if let packet = try? IPv4Packet(checking: bytes.span) {
        #expect(packet.headerLength >= 20 && packet.headerLength <= packet.totalLength)
        #expect(packet.totalLength <= bytes.count)
        #expect(packet.payload.count == packet.totalLength - packet.headerLength)
      }
    }
  }
}
