import Ethernet
import NetCore
import Testing

/// Writing Ethernet headers, and padding short frames (RFC 894).
struct EthernetHeaderTests {
  let va = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x01)
  let vb = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x02)

  @Test func emitMatchesCapturedHeaders() throws {
    var bytes = [UInt8](repeating: 0xEE, count: 14)
    var span = bytes.mutableSpan
    EthernetHeader(destination: vb, source: va, etherType: .ipv4).emit(into: &span)
    #expect(bytes == Array(LinuxCaptures.echoRequest[..<14]))
    var arp = [UInt8](repeating: 0, count: 14)
    var arpSpan = arp.mutableSpan
    EthernetHeader(destination: .broadcast, source: va, etherType: .arp).emit(into: &arpSpan)
    #expect(arp == Array(LinuxCaptures.arpRequest[..<14]))
  }

  @Test func roundTripsThroughTheView() throws {
    let header = EthernetHeader(
      destination: MACAddress(1, 0, 0x5E, 1, 2, 3), source: va,
      etherType: EtherType(rawValue: 0x1234))
    let packet = PacketBuffer(capacity: 100, headroom: 20)
    packet.append(copying: [UInt8](repeating: 7, count: 46).span)
    header.prepend(to: packet)
    let parsed = try packet.withBytes { bytes throws(WireError) in
      try EthernetFrame(checking: bytes).header
    }
    #expect(parsed == header)
  }

  /// The captured 50-byte frame, rebuilt by the stack, goes out padded with zeros to 60.
  @Test func padsShortFramesToSixtyBytes() {
    let captured = LinuxCaptures.shortUDPFrame
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 46)
    packet.append(copying: captured.span.extracting(droppingFirst: 14))
    EthernetHeader(destination: vb, source: va, etherType: .ipv4).prepend(to: packet)
    let frame = packet.withBytes { $0.copyToArray() }
    #expect(frame.count == EthernetHeader.minimumFrameLength)
    #expect(Array(frame[..<50]) == captured)
    #expect(frame[50...].allSatisfy { $0 == 0 })
  }

  @Test(arguments: [0, 1, 28, 45, 46, 47, 100, 1500])
  func padsOnlyWhenShort(payloadLength: Int) {
    let packet = PacketBuffer(capacity: 160 + 1514)
    // Garbage in the tailroom must not leak into the padding.
    packet.append(1514)
    packet.withMutableBytes { bytes in
      for index in 0..<bytes.count { bytes[index] = 0xA5 }
    }
    packet.removeLast(1514 - payloadLength)
    packet.withMutableBytes { bytes in
      for index in 0..<bytes.count { bytes[index] = 0x11 }
    }
    EthernetHeader(destination: vb, source: va, etherType: .ipv4).prepend(to: packet)
    let frame = packet.withBytes { $0.copyToArray() }
    #expect(frame.count == max(60, 14 + payloadLength))
    #expect(frame[14..<(14 + payloadLength)].allSatisfy { $0 == 0x11 })
    #expect(frame[(14 + payloadLength)...].allSatisfy { $0 == 0 })
  }

  /// Without tailroom the frame is padded as far as it can be, never past its buffer.
  @Test func padsNoFurtherThanTheTailroom() {
    let packet = PacketBuffer(capacity: 14 + 30, headroom: 14)
    packet.append(copying: [UInt8](repeating: 1, count: 28).span)
    EthernetHeader(destination: .broadcast, source: va, etherType: .arp).prepend(to: packet)
    #expect(packet.count == 44)
    #expect(packet.withBytes { $0.copyToArray() }.suffix(2) == [0, 0])
  }

  @Test func etherTypeConstants() {
    #expect(EtherType.ipv4.rawValue == 0x0800)
    #expect(EtherType.arp.rawValue == 0x0806)
    #expect(EtherType.vlan.rawValue == 0x8100)
    #expect(EtherType.ipv6.rawValue == 0x86DD)
  }
}
