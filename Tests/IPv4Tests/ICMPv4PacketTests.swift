import IPv4
import NetCore
import Testing

/// The ICMPv4 message view and header repr (RFC 792).
struct ICMPv4PacketTests {
  typealias C = LinuxCaptures

  func parseError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try ICMPv4Packet(checking: bytes.span)
      return nil
    } catch {
      return error
    }
  }

  @Test func parsesCapturedEchoRequest() throws {
    let bytes = Array(C.echoRequest[20...])
    let message = try ICMPv4Packet(checking: bytes.span)
    #expect(message.type == .echoRequest)
    #expect(message.code == 0)
    #expect(message.restOfHeader == 0x273A_0001)
    #expect(message.header.identifier == 0x273A)
    #expect(message.header.sequence == 1)
    #expect(message.payload.count == 56)
    #expect(message.payload.copyToArray() == Array(bytes[8...]))
  }

  @Test func parsesCapturedPortUnreachable() throws {
    let bytes = Array(C.portUnreachable[20...])
    let message = try ICMPv4Packet(checking: bytes.span)
    #expect(message.type == .destinationUnreachable)
    #expect(message.code == ICMPv4UnreachableCode.port.rawValue)
    #expect(message.restOfHeader == 0)
    #expect(message.payload.copyToArray() == C.udpToClosedPort)
  }

  @Test func prependReproducesCapturedMessages() {
    let echoReply = C.echoReply
    let reply = PacketBuffer(copying: echoReply.span.extracting(28...))
    ICMPv4Header.echo(reply: true, identifier: 0x273A, sequence: 1).prepend(to: reply)
    #expect(reply.withBytes { $0.copyToArray() } == Array(C.echoReply[20...]))
    let echoRequest = C.echoRequest
    let request = PacketBuffer(copying: echoRequest.span.extracting(28...))
    ICMPv4Header.echo(reply: false, identifier: 0x273A, sequence: 1).prepend(to: request)
    #expect(request.withBytes { $0.copyToArray() } == Array(C.echoRequest[20...]))
    let datagram = C.udpToClosedPort
    let error = PacketBuffer(copying: datagram.span)
    ICMPv4Header(type: .destinationUnreachable, code: 3).prepend(to: error)
    #expect(error.withBytes { $0.copyToArray() } == Array(C.portUnreachable[20...]))
    // Odd-length bodies are checksummed correctly too.
    let body: [UInt8] = [1, 2, 3]
    let odd = PacketBuffer(copying: body.span)
    ICMPv4Header(type: .echoRequest, code: 0, restOfHeader: 0xDEAD_BEEF).prepend(to: odd)
    #expect(odd.withBytes { InternetChecksum.compute($0) } == 0)
  }

  @Test func throwsTruncatedBelowEightBytes() {
    let bytes = Array(C.echoRequest[20...])
    for length in 0..<8 {
      #expect(parseError(Array(bytes[..<length])) == .truncated, "length \(length)")
    }
  }

  @Test func throwsBadChecksum() {
    let bytes = Array(C.echoRequest[20...])
    for index in [0, 1, 2, 3, 4, 7, 8, 40, 63] {
      var corrupted = bytes
      corrupted[index] ^= 0x01
      #expect(parseError(corrupted) == .badChecksum, "byte \(index)")
    }
    // A message cut short no longer verifies.
    #expect(parseError(Array(bytes[..<30])) == .badChecksum)
    #expect(parseError(bytes) == nil)
  }

  @Test func errorTypes() {
    let errors: [ICMPv4Type] = [
      .destinationUnreachable, .sourceQuench, .redirect, .timeExceeded, .parameterProblem,
    ]
    for type in errors { #expect(type.isError) }
    let others: [ICMPv4Type] = [
      .echoRequest, .echoReply, ICMPv4Type(rawValue: 13), ICMPv4Type(rawValue: 200),
    ]
    for type in others { #expect(!type.isError) }
  }
}
