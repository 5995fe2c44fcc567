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

  /// The captured 50-byte frame, rebuilt: the header goes in front and nothing is added
  /// behind (padding to 60 bytes is the sending link's work, EthernetLinkTests).
  @Test func prependsOnlyTheHeader() {
    let captured = LinuxCaptures.shortUDPFrame
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 46)
    packet.append(copying: captured.span.extracting(droppingFirst: 14))
    EthernetHeader(destination: vb, source: va, etherType: .ipv4).prepend(to: packet)
    #expect(packet.withBytes { $0.copyToArray() } == captured)
  }

  @Test func etherTypeConstants() {
    #expect(EtherType.ipv4.rawValue == 0x0800)
    #expect(EtherType.arp.rawValue == 0x0806)
    #expect(EtherType.vlan.rawValue == 0x8100)
    #expect(EtherType.ipv6.rawValue == 0x86DD)
  }
}
