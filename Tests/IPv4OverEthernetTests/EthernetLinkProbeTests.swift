import ARP
import Ethernet
import IPv4OverEthernet
import NetCore
import Testing

/// What DHCP needs of the link: RFC 5227 probes with sender 0.0.0.0, the claims of a watched
/// address by other hosts, an entry learned without asking (a server's unicast to a client
/// with no address yet), and a lower MTU from a lease.
struct EthernetLinkProbeTests {
  static let ours = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let other = MACAddress(0x02, 0, 0, 0, 0, 0x09)
  static let probed = IPv4Address(10, 0, 0, 135)

  func drain(_ link: inout EthernetLink) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while let packet = link.transmitQueue.popFirst() {
      frames.append(packet.withBytes { $0.copyToArray() })
    }
    return frames
  }

  /// An ARP frame from `sender` to everyone.
  func arp(
    _ operation: ARPOperation, from sender: MACAddress, _ senderAddress: IPv4Address,
    for target: IPv4Address
  ) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: 42)
    var span = bytes.mutableSpan
    EthernetHeader(destination: .broadcast, source: sender, etherType: .arp).emit(into: &span)
    var body = [UInt8](repeating: 0, count: 28)
    var bodySpan = body.mutableSpan
    ARPMessage(
      operation: operation, senderHardwareAddress: sender, senderProtocolAddress: senderAddress,
      targetHardwareAddress: .zero, targetProtocolAddress: target
    ).emit(into: &bodySpan)
    bytes.replaceSubrange(14..<42, with: body)
    return bytes
  }

  @Test func probeHasSenderAddressZero() throws {
    var link = EthernetLink(hardwareAddress: Self.ours)
    link.sendProbe(for: Self.probed)
    let frames = drain(&link)
    try #require(frames.count == 1)
    let bytes = frames[0]
    let frame = try EthernetFrame(checking: bytes.span)
    #expect(frame.destination == .broadcast)
    #expect(frame.etherType == .arp)
    let message = try ARPPacket(checking: frame.payload).message
    #expect(message.operation == .request)
    #expect(message.senderHardwareAddress == Self.ours)
    #expect(message.senderProtocolAddress == .any)
    #expect(message.targetHardwareAddress == .zero)
    #expect(message.targetProtocolAddress == Self.probed)
  }

  @Test func claimsOfTheWatchedAddressAreReported() {
    var link = EthernetLink(hardwareAddress: Self.ours)
    // Not watching: nothing is recorded.
    let reply = arp(.reply, from: Self.other, Self.probed, for: .any)
    _ = link.receive(reply.span, now: .zero)
    #expect(link.addressClaims.isEmpty)
    link.watchedAddress = Self.probed
    // The owner answering, another host probing the same address, an announcement.
    _ = link.receive(reply.span, now: .zero)
    let probe = arp(.request, from: Self.other, .any, for: Self.probed)
    _ = link.receive(probe.span, now: .zero)
    let announcement = arp(.request, from: Self.other, Self.probed, for: Self.probed)
    _ = link.receive(announcement.span, now: .zero)
    // Not claims: a request for it from a host with another address, our own probe echoed.
    let question = arp(.request, from: Self.other, IPv4Address(10, 0, 0, 7), for: Self.probed)
    _ = link.receive(question.span, now: .zero)
    let echo = arp(.request, from: Self.ours, .any, for: Self.probed)
    _ = link.receive(echo.span, now: .zero)
    let claim = ARPAddressClaim(address: Self.probed, hardwareAddress: Self.other)
    #expect(link.takeAddressClaims() == [claim, claim, claim])
    #expect(link.addressClaims.isEmpty)
    // Bounded: at most 8 wait to be taken.
    for _ in 0..<20 { _ = link.receive(reply.span, now: .zero) }
    #expect(link.takeAddressClaims().count == 8)
  }

  @Test func learnedEntriesSendWhatWaits() throws {
    var link = EthernetLink(hardwareAddress: Self.ours)
    link.setAddress(IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24), now: .zero)
    _ = drain(&link)
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 20)
    packet.append(copying: [UInt8](repeating: 0x45, count: 20).span)
    link.send(packet, to: Self.probed, now: .zero)
    #expect(link.pendingCount == 1)
    _ = drain(&link)  // the ARP request
    link.learn(Self.probed, hardwareAddress: Self.other, now: .zero)
    #expect(link.pendingCount == 0)
    let frames = drain(&link)
    try #require(frames.count == 1)
    let bytes = frames[0]
    let destination = try EthernetFrame(checking: bytes.span).destination
    #expect(destination == Self.other)
    #expect(link.cache.entry(for: Self.probed)?.state.hardwareAddress == Self.other)
  }

  @Test func mtuCanBeLoweredNotRaised() {
    var link = EthernetLink(hardwareAddress: Self.ours, mtu: 1500)
    link.setMTU(1400)
    #expect(link.mtu == 1400)
    link.setMTU(9000)
    #expect(link.mtu == 1500)
    link.setMTU(20)
    #expect(link.mtu == 68)
    link.setMTU(nil)
    #expect(link.mtu == 1500 && link.deviceMTU == 1500)
  }
}
