import Ethernet
import NetCore
import Testing

/// Which received frames are for us (IEEE 802.3 address recognition).
struct EthernetFilterTests {
  let ours = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x02)
  let peer = MACAddress(0x02, 0x4E, 0x53, 0x00, 0x00, 0x01)

  func verdict(
    _ filter: EthernetFilter, destination: MACAddress, source: MACAddress
  ) -> EthernetFilterVerdict {
    var bytes = [UInt8](repeating: 0, count: 60)
    var span = bytes.mutableSpan
    EthernetHeader(destination: destination, source: source, etherType: .ipv4).emit(into: &span)
    let frame = try! EthernetFrame(checking: bytes.span)
    return filter.check(frame)
  }

  @Test func acceptsUnicastToUsAndBroadcast() {
    let filter = EthernetFilter(address: ours)
    #expect(verdict(filter, destination: ours, source: peer) == .accept)
    #expect(verdict(filter, destination: .broadcast, source: peer) == .accept)
  }

  @Test func capturedFrames() throws {
    let filter = EthernetFilter(address: ours)
    let request = LinuxCaptures.echoRequest
    #expect(filter.check(try EthernetFrame(checking: request.span)) == .accept)
    let arp = LinuxCaptures.arpRequest
    #expect(filter.check(try EthernetFrame(checking: arp.span)) == .accept)
    // The same frames, seen by a host with another MAC.
    let other = EthernetFilter(address: MACAddress(0x02, 0, 0, 0, 0, 9))
    #expect(other.check(try EthernetFrame(checking: request.span)) == .notForUs)
    #expect(other.check(try EthernetFrame(checking: arp.span)) == .accept)
    // Sent by ourselves: a loop.
    let looped = EthernetFilter(address: peer)
    #expect(looped.check(try EthernetFrame(checking: request.span)) == .badSource)
    // IPv6 multicast: not joined.
    let ipv6 = LinuxCaptures.ipv6MulticastHeader
    #expect(
      EthernetFilter(address: peer).check(try EthernetFrame(checking: ipv6.span)) == .notJoined)
  }

  @Test func dropsOtherUnicastAndUnjoinedMulticast() {
    let filter = EthernetFilter(address: ours)
    #expect(
      verdict(filter, destination: MACAddress(0x02, 0, 0, 0, 0, 3), source: peer) == .notForUs)
    #expect(
      verdict(filter, destination: MACAddress(multicast: IPv4Address(224, 0, 0, 251)), source: peer)
        == .notJoined)
    #expect(
      verdict(filter, destination: MACAddress(0x33, 0x33, 0, 0, 0, 1), source: peer) == .notJoined)
  }

  @Test func acceptsTheAllHostsGroupAlways() {
    let filter = EthernetFilter(address: ours)
    #expect(filter.multicastGroups == [MACAddress(1, 0, 0x5E, 0, 0, 1)])
    #expect(
      verdict(filter, destination: MACAddress(multicast: IPv4Address(224, 0, 0, 1)), source: peer)
        == .accept)
  }

  @Test func joiningAGroupAcceptsItsFrames() {
    var filter = EthernetFilter(address: ours)
    let group = IPv4Address(224, 0, 0, 251)
    #expect(filter.join(group) == true)
    #expect(verdict(filter, destination: MACAddress(multicast: group), source: peer) == .accept)
    // Joining again changes nothing.
    #expect(filter.join(group) == true)
    #expect(filter.multicastGroups.count == 2)
  }

  @Test func groupTableIsBounded() {
    var filter = EthernetFilter(address: ours)
    for index in 1..<EthernetFilter.multicastLimit {
      #expect(filter.join(IPv4Address(239, 1, 1, UInt8(index))) == true)
    }
    #expect(filter.multicastGroups.count == EthernetFilter.multicastLimit)
    #expect(filter.join(IPv4Address(239, 2, 2, 2)) == false)
    #expect(filter.multicastGroups.count == EthernetFilter.multicastLimit)
    // A group already in the table is still accepted.
    #expect(filter.join(IPv4Address(239, 1, 1, 1)) == true)
  }

  @Test func refusesOurOwnAndMulticastSources() {
    let filter = EthernetFilter(address: ours)
    #expect(verdict(filter, destination: ours, source: ours) == .badSource)
    #expect(verdict(filter, destination: .broadcast, source: ours) == .badSource)
    #expect(verdict(filter, destination: ours, source: .broadcast) == .badSource)
    #expect(
      verdict(filter, destination: ours, source: MACAddress(1, 0, 0x5E, 0, 0, 1)) == .badSource)
  }

  @Test func followsAnAddressChange() {
    var filter = EthernetFilter(address: ours)
    filter.address = peer
    #expect(verdict(filter, destination: ours, source: MACAddress(2, 0, 0, 0, 0, 7)) == .notForUs)
    #expect(verdict(filter, destination: peer, source: MACAddress(2, 0, 0, 0, 0, 7)) == .accept)
  }

  @Test func joiningAnIPv6GroupAcceptsItsFramesUntilLeft() {
    var filter = EthernetFilter(address: ours)
    let solicited = IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF12, 0x3456)
    let groupMAC = MACAddress(0x33, 0x33, 0xFF, 0x12, 0x34, 0x56)
    #expect(verdict(filter, destination: groupMAC, source: peer) == .notJoined)
    #expect(filter.join(solicited) == true)
    #expect(verdict(filter, destination: groupMAC, source: peer) == .accept)
    #expect(
      verdict(filter, destination: MACAddress(0x33, 0x33, 0, 0, 0, 1), source: peer) == .notJoined)
    // Another group with the same last 32 bits shares the MAC: leaving one keeps the other.
    let twin = IPv6Address(0xFF05, 0, 0, 0, 0, 1, 0xFF12, 0x3456)
    #expect(filter.join(twin) == true)
    filter.leave(solicited)
    #expect(verdict(filter, destination: groupMAC, source: peer) == .accept)
    filter.leave(twin)
    #expect(verdict(filter, destination: groupMAC, source: peer) == .notJoined)
  }

  @Test func ipv6GroupTableIsBounded() {
    var filter = EthernetFilter(address: ours)
    for index in 0..<EthernetFilter.ipv6MulticastLimit {
      #expect(filter.join(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF00, UInt16(index))) == true)
    }
    #expect(filter.join(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF01, 0)) == false)
    #expect(filter.ipv6MulticastGroups.count == EthernetFilter.ipv6MulticastLimit)
    // A group already in the table is still accepted; the IPv4 table is separate.
    #expect(filter.join(IPv6Address(0xFF02, 0, 0, 0, 0, 1, 0xFF00, 0)) == true)
    #expect(filter.join(IPv4Address(239, 1, 1, 1)) == true)
  }
}
