import Ethernet
import IPv4OverEthernet
import NetCore
import Testing

/// IPv6 over the Ethernet link (RFC 2464): received IPv6 frames come out as IPv6 packets when
/// they are for our MAC, broadcast or a joined group's 33:33 MAC; frames for other groups are
/// counted drops; IPv6 packets go out with EtherType 0x86DD to the MAC IPv6 chose.
struct EthernetLinkIPv6Tests {
  static let ours = MACAddress(0x02, 0, 0, 0, 0, 0x0b)
  static let peer = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
  static let group = IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF00, 0x0002)

  /// A frame from the peer to `destination` with a 40-byte stand-in IPv6 header.
  static func frame(to destination: MACAddress, type: EtherType = .ipv6) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 14 + 40)
    var span = bytes.mutableSpan
    EthernetHeader(destination: destination, source: peer, etherType: type).emit(into: &span)
    bytes[14] = 0x60
    bytes[54 - 1] = 0xAB
    return bytes
  }

  /// What the link made of `bytes`: the IPv6 packet and whether it came to a group, or nil.
  static func receiveIPv6(_ bytes: [UInt8], on link: inout EthernetLink) -> ([UInt8], Bool)? {
    switch link.receive(bytes.span, now: Instant(nanoseconds: 0)) {
    case .ipv6(let packet, let linkMulticast): (packet.copyToArray(), linkMulticast)
    case .ipv4, .consumed: nil
    }
  }

  @Test func ipv6ToOurMACAndBroadcastComesOut() throws {
    var link = EthernetLink(hardwareAddress: Self.ours)
    let unicast = try #require(Self.receiveIPv6(Self.frame(to: Self.ours), on: &link))
    #expect(unicast.0 == Array(Self.frame(to: Self.ours)[14...]))
    #expect(!unicast.1)
    let broadcast = try #require(Self.receiveIPv6(Self.frame(to: .broadcast), on: &link))
    #expect(broadcast.1)
    #expect(link.ethernetCounters.droppedUnknownType == 0)
  }

  @Test func groupFramesPassOnlyWhileJoined() throws {
    var link = EthernetLink(hardwareAddress: Self.ours)
    let groupMAC = MACAddress(multicast: Self.group)
    #expect(groupMAC == MACAddress(0x33, 0x33, 0xFF, 0, 0, 0x02))
    #expect(Self.receiveIPv6(Self.frame(to: groupMAC), on: &link) == nil)
    #expect(link.ethernetCounters.droppedNotJoined == 1)
    #expect(link.joinMulticastGroup(Self.group) == true)
    let joined = try #require(Self.receiveIPv6(Self.frame(to: groupMAC), on: &link))
    #expect(joined.1)
    // Another group's MAC stays a counted drop.
    #expect(
      Self.receiveIPv6(Self.frame(to: MACAddress(0x33, 0x33, 0, 0, 0, 0x16)), on: &link) == nil)
    #expect(link.ethernetCounters.droppedNotJoined == 2)
    link.leaveMulticastGroup(Self.group)
    #expect(Self.receiveIPv6(Self.frame(to: groupMAC), on: &link) == nil)
    #expect(link.ethernetCounters.droppedNotJoined == 3)
  }

  @Test func aFullGroupFilterRefusesAndCounts() {
    var link = EthernetLink(hardwareAddress: Self.ours)
    for index in 0..<EthernetFilter.ipv6MulticastLimit {
      #expect(
        link.joinMulticastGroup(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF00, UInt16(index))) == true)
    }
    #expect(link.joinMulticastGroup(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF01, 0)) == false)
    #expect(link.ethernetCounters.multicastJoinsRefused == 1)
  }

  @Test func sendsIPv6WithItsEtherType() throws {
    var link = EthernetLink(hardwareAddress: Self.ours)
    let packet = PacketBuffer(capacity: 64 + 48, headroom: 64)
    packet.append(copying: [UInt8](repeating: 0x60, count: 48).span)
    link.sendIPv6(packet, to: MACAddress(0x33, 0x33, 0, 0, 0, 1))
    let popped = link.transmitQueue.popFirst()
    let sent = try #require(popped)
    let bytes = sent.withBytes { $0.copyToArray() }
    let frame = try EthernetFrame(checking: bytes.span)
    #expect(frame.destination == MACAddress(0x33, 0x33, 0, 0, 0, 1))
    #expect(frame.source == Self.ours)
    #expect(frame.etherType == .ipv6)
    #expect(bytes.count == 14 + 48)
    #expect(link.ethernetCounters.framesSent == 1)
  }
}
