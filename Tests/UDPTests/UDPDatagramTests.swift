import IPv4
import NetCore
import Testing
import UDP

/// The UDP datagram view and header repr (RFC 768), against captured Linux datagrams.
struct UDPDatagramTests {
  typealias C = LinuxCaptures

  func parseError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try UDPDatagram(checking: bytes.span)
      return nil
    } catch {
      return error
    }
  }

  func emit(
    _ payload: [UInt8], from sourcePort: UInt16, to destinationPort: UInt16,
    source: IPv4Address = C.va, destination: IPv4Address = C.vb
  ) -> [UInt8] {
    let packet = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: sourcePort, destinationPort: destinationPort)
      .prepend(to: packet, source: .v4(source), destination: .v4(destination))
    return packet.withBytes { $0.copyToArray() }
  }

  @Test func parsesCapturedDatagram() throws {
    let bytes = Array(C.hello[20...])
    let datagram = try UDPDatagram(checking: bytes.span)
    #expect(datagram.sourcePort == 40000)
    #expect(datagram.destinationPort == 7777)
    #expect(datagram.length == 23)
    #expect(datagram.checksum == 0x27EA)
    #expect(datagram.payload.copyToArray() == Array("hello netstack\n".utf8))
    #expect(datagram.checksumIsValid(source: .v4(C.va), destination: .v4(C.vb)) == true)
    // The pseudo-header matters: other addresses do not verify.
    #expect(
      datagram.checksumIsValid(source: .v4(C.vb), destination: .v4(C.va.advanced(1))) == false)
    #expect(
      datagram.checksumIsValid(source: .v4(IPv4Address(10, 77, 0, 3)), destination: .v4(C.vb))
        == false)
  }

  @Test func emitReproducesCapturedDatagrams() {
    #expect(emit(Array("hello netstack\n".utf8), from: 40000, to: 7777) == Array(C.hello[20...]))
    #expect(emit(Array("closed?\n".utf8), from: 40001, to: 9) == Array(C.closed[20...]))
  }

  /// RFC 768: a zero checksum means none was computed; IPv4 accepts it.
  @Test func zeroChecksumIsAccepted() throws {
    let bytes = Array(C.noChecksum[20...])
    let datagram = try UDPDatagram(checking: bytes.span)
    #expect(datagram.checksum == 0)
    #expect(datagram.checksumIsValid(source: .v4(C.va), destination: .v4(C.vb)) == true)
    #expect(datagram.checksumIsValid(source: .v4(.any), destination: .v4(.broadcast)) == true)
  }

  /// RFC 768: a checksum that computes to zero is sent as all ones.
  @Test func computedZeroIsSentAsAllOnes() throws {
    // Choose the last two payload bytes so that the datagram sums to 0xffff.
    var payload: [UInt8] = Array("zero".utf8) + [0, 0]
    let probe = emit(payload, from: 1234, to: 5678)
    let checksum = UInt16(probe[6]) << 8 | UInt16(probe[7])
    payload[4] = UInt8(checksum >> 8)
    payload[5] = UInt8(checksum & 0xFF)
    let bytes = emit(payload, from: 1234, to: 5678)
    #expect(bytes[6] == 0xFF && bytes[7] == 0xFF)
    let datagram = try UDPDatagram(checking: bytes.span)
    #expect(datagram.checksumIsValid(source: .v4(C.va), destination: .v4(C.vb)) == true)
  }

  @Test func roundTripsEveryPayloadLength() throws {
    var random = PseudoRandomGenerator(seed: 768)
    for length in 0..<200 {
      let payload = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let source = IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next()))
      let bytes = emit(payload, from: 53, to: UInt16(length), source: source, destination: C.vb)
      let datagram = try UDPDatagram(checking: bytes.span)
      #expect(datagram.length == 8 + length)
      #expect(datagram.payload.copyToArray() == payload)
      #expect(datagram.sourcePort == 53 && datagram.destinationPort == UInt16(length))
      #expect(datagram.checksum != 0)
      #expect(datagram.checksumIsValid(source: .v4(source), destination: .v4(C.vb)) == true)
    }
  }

  @Test func detectsCorruption() throws {
    let original = Array(C.hello[20...])
    for index in 0..<original.count where index != 4 && index != 5 {
      var bytes = original
      bytes[index] ^= 0x04
      let datagram = try UDPDatagram(checking: bytes.span)
      #expect(
        datagram.checksumIsValid(source: .v4(C.va), destination: .v4(C.vb)) == false,
        "byte \(index)")
    }
  }

  @Test func throwsTruncatedBelowTheHeader() {
    let bytes = Array(C.hello[20...])
    for length in 0..<8 {
      #expect(parseError(Array(bytes[..<length])) == .truncated, "length \(length)")
    }
  }

  @Test func throwsTruncatedWhenTheLengthPassesTheBytes() {
    let bytes = Array(C.hello[20...])
    for length in 8..<bytes.count {
      #expect(parseError(Array(bytes[..<length])) == .truncated, "length \(length)")
    }
    var long = bytes
    long[4] = 0xFF
    #expect(parseError(long) == .truncated)
  }

  @Test(arguments: 0..<8)
  func throwsBadLengthBelowEight(length: Int) {
    var bytes = Array(C.hello[20...])
    bytes[4] = 0
    bytes[5] = UInt8(length)
    #expect(parseError(bytes) == .badLength)
  }

  /// Bytes past the UDP length (IP padding) are not part of the datagram.
  @Test func cutsBytesPastTheLength() throws {
    let bytes = Array(C.hello[20...]) + [0xAA, 0xBB]
    let datagram = try UDPDatagram(checking: bytes.span)
    #expect(datagram.length == 23)
    #expect(datagram.bytes.count == 23)
    #expect(datagram.payload.count == 15)
    #expect(datagram.checksumIsValid(source: .v4(C.va), destination: .v4(C.vb)) == true)
    var empty = Array(C.hello[20..<28])
    empty[4] = 0
    empty[5] = 8
    #expect(try UDPDatagram(checking: empty.span).payload.count == 0)
  }

  @Test func constants() {
    #expect(UDPHeader.length == 8)
    #expect(UDPHeader.maximumPayload == 65535 - 20 - 8)
  }
}

extension IPv4Address {
  fileprivate func advanced(_ by: UInt32) -> IPv4Address { IPv4Address(rawValue: rawValue + by) }
}
