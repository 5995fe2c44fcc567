import DHCP
import Ethernet
import IPv6
import NetCore
import Testing

@testable import NetStack

/// IPv6 in the direct stack (RFC 2464 framing, RFC 4862 detection, RFC 4861 resolution,
/// RFC 4443 echo): Linux's `ping -6` answered as Linux answers it, the link-local address and
/// its groups at start, and the one place where IPv6 meets the transports.
///
/// The fixtures are Linux 6.18's (`Fuzz/capture-ipv6`, the same captures as
/// Tests/IPv6Tests/LinuxCaptures.swift): host A (02:00:00:00:00:0a, fd00:77::ff:fe00:a) pings
/// host B (02:00:00:00:00:0b, fd00:77::2); the stack here plays B.
@Suite struct DirectStackIPv6Tests {
  static let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0b)
  static let peerMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
  static let ours = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 2)
  static let peer = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0xff, 0xfe00, 0x0a)
  static let start = Instant(nanoseconds: 1_000_000_000)

  /// A resolves fd00:77::2: from fd00:77::ff:fe00:a to ff02::1:ff00:2, source link-layer
  /// address 02:00:00:00:00:0a.
  static let neighbourSolicitation: [UInt8] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x02, 0x87, 0x00, 0x7d, 0x97, 0x00, 0x00, 0x00, 0x00,
    0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
  ]

  /// `ping -6 -c1 fd00:77::2` from A: identifier 0x02e9, sequence 1, 56 bytes of data.
  static let echoRequest: [UInt8] = [
    0x60, 0x0f, 0x38, 0x78, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, 0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x80, 0x00, 0x15, 0xe2, 0x02, 0xe9, 0x00, 0x01,
    0x8a, 0x57, 0x16, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x28, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
  ]

  /// Linux's (B's) reply to echoRequest: the flow label (bytes 1-3) is B's own choice.
  static let echoReply: [UInt8] = [
    0x60, 0x06, 0x62, 0xb4, 0x00, 0x40, 0x3a, 0x40, 0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xfd, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a, 0x81, 0x00, 0x14, 0xe2, 0x02, 0xe9, 0x00, 0x01,
    0x8a, 0x57, 0x16, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x28, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
  ]

  /// An Ethernet frame from A carrying `packet`.
  static func frame(_ packet: [UInt8], to destination: MACAddress) -> PacketBuffer {
    let buffer = PacketBuffer(capacity: 64 + packet.count, headroom: 64)
    buffer.append(copying: packet.span)
    EthernetHeader(destination: destination, source: peerMAC, etherType: .ipv6).prepend(to: buffer)
    return buffer
  }

  /// The frames the stack sent, as (header, payload bytes).
  static func decode(_ frames: [PacketBuffer]) -> [(EthernetHeader, [UInt8])] {
    frames.compactMap { buffer in
      buffer.withBytes { bytes -> (EthernetHeader, [UInt8])? in
        guard let frame = try? EthernetFrame(checking: bytes) else { return nil }
        return (frame.header, frame.payload.copyToArray())
      }
    }
  }

  /// A stack with fd00:77::2/64 whose addresses have passed duplicate address detection
  /// (nobody answered): polled for five virtual seconds.
  /// The captured echo request turned into a UDP datagram between these ports, from the peer
  /// to us, with a valid checksum (UDP checks it before it looks at the port).
  static func udpDatagram(fromPort source: UInt16, toPort destination: UInt16) -> [UInt8] {
    var datagram = echoRequest
    datagram[6] = 17  // next header: UDP
    let length = datagram.count - 40
    let header: [UInt16] = [source, destination, UInt16(length), 0]
    for (index, field) in header.enumerated() {
      datagram[40 + 2 * index] = UInt8(field >> 8)
      datagram[41 + 2 * index] = UInt8(field & 0xFF)
    }
    var sum = InternetChecksum.pseudoHeader(
      source: .v6(peer), destination: .v6(ours), protocolNumber: .udp, length: length)
    let transport = Array(datagram[40...])
    sum.add(transport.span)
    datagram[46] = UInt8(sum.value >> 8)
    datagram[47] = UInt8(sum.value & 0xFF)
    return datagram
  }

  static func stackPastDetection(device: inout MemoryDevice) throws -> (DirectStack, Instant) {
    var configuration = DirectStackConfiguration(
      hardwareAddress: ourMAC, address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 1)
    configuration.ipv6Addresses = [IPv6CIDR(address: ours, prefixLength: 64)]
    var stack = DirectStack(configuration: configuration, now: start)
    var now = start
    for _ in 0..<50 {
      now = now + .milliseconds(100)
      _ = stack.poll(now: now, device: &device)
    }
    return (stack, now)
  }

  @Test func startsWithALinkLocalAddressAndDetectsItsAddresses() throws {
    var device = MemoryDevice()
    let (stack, _) = try Self.stackPastDetection(device: &device)
    let addresses = stack.ipv6.addresses
    #expect(addresses.count == 2)
    #expect(addresses.allSatisfy { $0.state == .preferred })
    #expect(addresses.contains { $0.origin == .linkLocal && $0.address.isLinkLocal })
    #expect(addresses.contains { $0.address == Self.ours && $0.origin == .manual })
    let sent = Self.decode(device.takeSent())
    // Detection: a solicitation from :: for each address, to its solicited-node group's MAC.
    let detections = sent.filter { header, packet in
      header.etherType == .ipv6 && packet.count >= 41 && packet[40] == 135
        && packet[8..<24].allSatisfy { $0 == 0 }
    }
    #expect(detections.count == 2)
    #expect(
      detections.contains {
        $0.0.destination == MACAddress(multicast: Self.ours.solicitedNodeMulticast)
      })
    // The Ethernet filter listens to the groups the IPv6 layer joined.
    let groups = stack.ipv4.link.filter.ipv6MulticastGroups
    #expect(groups.contains(.allNodes))
    #expect(groups.contains(Self.ours.solicitedNodeMulticast))
  }

  @Test func answersLinuxPingAsLinuxDoes() throws {
    var device = MemoryDevice()
    var (stack, now) = try Self.stackPastDetection(device: &device)
    _ = device.takeSent()
    // A resolves us first (which also tells us A's MAC), then pings.
    device.inbox.append(
      Self.frame(
        Self.neighbourSolicitation,
        to: MACAddress(multicast: Self.ours.solicitedNodeMulticast)))
    device.inbox.append(Self.frame(Self.echoRequest, to: Self.ourMAC))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    let frames = device.takeSent()
    // Room in front of each frame for what a device writes there (a TAP's 12-byte virtio-net
    // header), as every IPv4 frame has.
    #expect(frames.allSatisfy { $0.headroom >= 12 })
    let sent = Self.decode(frames)
    let advertisement = sent.first { $0.1.count > 40 && $0.1[40] == 136 }
    #expect(advertisement?.0.destination == Self.peerMAC)
    let replies = sent.filter { $0.1.count > 40 && $0.1[40] == 129 }
    try #require(replies.count == 1)
    let (header, packet) = replies[0]
    #expect(header.destination == Self.peerMAC)
    #expect(header.source == Self.ourMAC)
    #expect(header.etherType == .ipv6)
    // Version and traffic class as Linux's; the flow label is each host's own.
    #expect(packet[0] == 0x60 && packet[1] & 0xF0 == 0)
    // Payload length, next header, hop limit, addresses, the whole ICMPv6 message and its
    // checksum: byte for byte what Linux answered.
    #expect(Array(packet[4...]) == Array(Self.echoReply[4...]))
    #expect(stack.ipv6.icmpCounters.echoRepliesSent == 1)
  }

  @Test func multicastToAnUnjoinedGroupIsACountedDrop() throws {
    var device = MemoryDevice()
    var (stack, now) = try Self.stackPastDetection(device: &device)
    _ = device.takeSent()
    let other = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x99).solicitedNodeMulticast
    device.inbox.append(Self.frame(Self.neighbourSolicitation, to: MACAddress(multicast: other)))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    #expect(device.takeSent().isEmpty)
    #expect(stack.ipv4.link.ethernetCounters.droppedNotJoined == 1)
    #expect(stack.ipv6.ndpCounters.neighbourSolicitationsReceived == 0)
  }

  /// UDP over IPv6 to a port nobody listens on: port unreachable, quoting the datagram.
  @Test func udpOverIPv6ToAClosedPortIsAnsweredWithPortUnreachable() throws {
    var device = MemoryDevice()
    var (stack, now) = try Self.stackPastDetection(device: &device)
    _ = device.takeSent()
    let datagram = Self.udpDatagram(fromPort: 12345, toPort: 7)
    device.inbox.append(
      Self.frame(
        Self.neighbourSolicitation,
        to: MACAddress(multicast: Self.ours.solicitedNodeMulticast)))
    device.inbox.append(Self.frame(datagram, to: Self.ourMAC))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    let errors = Self.decode(device.takeSent()).filter { $0.1.count > 40 && $0.1[40] == 1 }
    try #require(errors.count == 1)
    let packet = errors[0].1
    #expect(packet[41] == 4)  // port unreachable
    #expect(Array(packet[48...]) == datagram)  // the whole datagram quoted
  }

  /// DHCPv4's endpoints take datagrams of either family (they are bound to a port), but DHCPv4
  /// is IPv4's: a datagram from port 67 to 68 over IPv6 is dropped, not queued for the client
  /// nor reported as readable.
  @Test func aDHCPDatagramOverIPv6DoesNotReachTheDHCPClient() throws {
    var device = MemoryDevice()
    var (stack, now) = try Self.stackPastDetection(device: &device)
    try stack.startDHCPClient(DHCPClient.Configuration(hardwareAddress: Self.ourMAC), now: now)
    _ = stack.poll(now: now, device: &device)
    _ = device.takeSent()
    _ = stack.takeReadableUDPEndpoints()
    let datagram = Self.udpDatagram(fromPort: 67, toPort: 68)
    let delivered = stack.udp.counters.datagramsDelivered
    device.inbox.append(
      Self.frame(
        Self.neighbourSolicitation,
        to: MACAddress(multicast: Self.ours.solicitedNodeMulticast)))
    device.inbox.append(Self.frame(datagram, to: Self.ourMAC))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    #expect(stack.udp.counters.datagramsDelivered == delivered + 1)  // UDP took it ...
    #expect(stack.takeReadableUDPEndpoints().isEmpty)  // ... and DHCP dropped it at once
  }
}
