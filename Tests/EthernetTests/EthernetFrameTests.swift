import Ethernet
import NetCore
import Testing

/// Parsing received frames in place.
struct EthernetFrameTests {
  let va = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x01)
  let vb = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x02)

  @Test func parsesCapturedARPRequest() throws {
    let bytes = LinuxCaptures.arpRequest
    let frame = try EthernetFrame(checking: bytes.span)
    #expect(frame.destination == .broadcast)
    #expect(frame.source == va)
    #expect(frame.etherType == .arp)
    #expect(frame.payload.count == 28)
    #expect(frame.payload.copyToArray() == Array(bytes[14...]))
    #expect(frame.header == EthernetHeader(destination: .broadcast, source: va, etherType: .arp))
  }

  @Test func parsesCapturedIPv4Frame() throws {
    let bytes = LinuxCaptures.echoRequest
    let frame = try EthernetFrame(checking: bytes.span)
    #expect(frame.destination == vb)
    #expect(frame.source == va)
    #expect(frame.etherType == .ipv4)
    #expect(frame.payload.count == 84)
    #expect(frame.payload[0] == 0x45)
  }

  @Test func keepsUnknownEtherTypes() throws {
    let bytes = LinuxCaptures.ipv6MulticastHeader
    let frame = try EthernetFrame(checking: bytes.span)
    #expect(frame.etherType == .ipv6)
    #expect(frame.destination == MACAddress(0x33, 0x33, 0, 0, 0, 0x16))
    #expect(frame.payload.count == 0)
    var custom = bytes
    custom[12] = 0x88
    custom[13] = 0xCC
    #expect(try EthernetFrame(checking: custom.span).etherType == EtherType(rawValue: 0x88CC))
  }

  @Test func throwsTruncatedForEveryLengthBelowTheHeader() {
    let bytes = LinuxCaptures.echoRequest
    for length in 0..<EthernetHeader.length {
      let prefix = Array(bytes[..<length])
      #expect(throws: WireError.truncated) { _ = try EthernetFrame(checking: prefix.span) }
    }
    let header = Array(bytes[..<14])
    #expect(throws: Never.self) { _ = try EthernetFrame(checking: header.span) }
  }
}
