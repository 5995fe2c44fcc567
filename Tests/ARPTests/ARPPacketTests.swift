import ARP
import ARPCaptures
import Ethernet
import NetCore
import Testing

/// The ARP packet view and message repr (RFC 826), against captured Linux packets.
struct ARPPacketTests {
  typealias C = LinuxARPCaptures

  func parse(_ frame: [UInt8]) throws(WireError) -> ARPMessage {
    try ARPPacket(checking: frame.span.extracting(droppingFirst: 14)).message
  }

  func emit(_ message: ARPMessage) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: ARPPacket.length)
    var span = bytes.mutableSpan
    message.emit(into: &span)
    return bytes
  }

  func parseError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try ARPPacket(checking: bytes.span)
      return nil
    } catch {
      return error
    }
  }

  @Test func parsesCapturedRequest() throws {
    let bytes = Array(C.request[14...])
    let packet = try ARPPacket(checking: bytes.span)
    #expect(packet.operation == .request)
    #expect(packet.senderHardwareAddress == C.va)
    #expect(packet.senderProtocolAddress == C.vaAddress)
    #expect(packet.targetHardwareAddress == .zero)
    #expect(packet.targetProtocolAddress == C.vbAddress)
  }

  @Test func parsesCapturedReply() throws {
    let message = try parse(C.reply)
    #expect(
      message
        == ARPMessage(
          operation: .reply, senderHardwareAddress: C.vb, senderProtocolAddress: C.vbAddress,
          targetHardwareAddress: C.va, targetProtocolAddress: C.vaAddress))
  }

  @Test func parsesCapturedProbeAndGratuitousRequest() throws {
    let probe = try parse(C.addressProbe)
    #expect(probe.operation == .request)
    #expect(probe.senderProtocolAddress == .any)
    #expect(probe.targetHardwareAddress == .broadcast)
    #expect(probe.targetProtocolAddress == C.vbAddress)
    let gratuitous = try parse(C.gratuitous)
    #expect(gratuitous.senderProtocolAddress == gratuitous.targetProtocolAddress)
    #expect(gratuitous.senderHardwareAddress == C.va)
  }

  @Test(arguments: [
    LinuxARPCaptures.request, LinuxARPCaptures.reply, LinuxARPCaptures.unicastProbe,
    LinuxARPCaptures.unicastProbeReply, LinuxARPCaptures.gratuitous, LinuxARPCaptures.addressProbe,
    LinuxARPCaptures.addressProbeReply,
  ])
  func emitReproducesCapturedBytes(frame: [UInt8]) throws {
    #expect(emit(try parse(frame)) == Array(frame[14...]))
  }

  /// A 60-byte frame carries 18 bytes of padding after the packet; they are ignored.
  @Test func acceptsTrailingPadding() throws {
    let padded = C.padded(C.request)
    #expect(try parse(padded) == (try parse(C.request)))
  }

  @Test func throwsTruncatedForEveryShortLength() {
    let bytes = Array(C.request[14...])
    for length in 0..<ARPPacket.length {
      #expect(parseError(Array(bytes[..<length])) == .truncated, "length \(length)")
    }
    #expect(parseError(bytes) == nil)
  }

  @Test(arguments: [
    (0, 0x01 as UInt8),  // hardware type 0x0101
    (1, 0x06),  // hardware type 6 (IEEE 802)
    (2, 0x86),  // protocol type 0x8600
    (3, 0x01),  // protocol type 0x0801
    (4, 0x08),  // hardware length 8
    (5, 0x10),  // protocol length 16 (IPv6-sized)
  ])
  func throwsUnsupportedForOtherHardwareOrProtocols(offset: Int, value: UInt8) {
    var bytes = Array(C.request[14...])
    bytes[offset] = value
    #expect(parseError(bytes) == .unsupported)
  }

  @Test func keepsUnknownOperations() throws {
    var bytes = Array(C.request[14...])
    bytes[7] = 3  // RARP request
    let message = try ARPPacket(checking: bytes.span).message
    #expect(message.operation == ARPOperation(rawValue: 3))
    #expect(message.operation != .request && message.operation != .reply)
    #expect(emit(message) == bytes)
  }
}
