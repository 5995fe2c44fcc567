// Fuzz target: relay mode on the direct stack (Sources/NetStack/DirectStack+Relay.swift,
// RelayDestinationPolicy, IPv4Layer.relaysOtherDestinations, the link answering for the DNS
// and host-loopback addresses) with a simulated host side.
//
// The stack is 02:00:00:00:00:02, the gateway 10.0.2.2/24, DNS 10.0.2.3 (a UDP endpoint on
// port 53 there that answers every query with its own bytes), 192.0.2.128/25 denied, 10.0.2.4
// mapped to the host's loopback. Frames from a guest go in through the stack's one poll.
// Input: records, each one received frame:
//
//   byte 0   control: bits 0-1 clock advance before the frame: 0, 1 ms, 1 s, 31 s;
//            bit 2 correct the IPv4 header checksum and, for an unfragmented ICMP or UDP
//            datagram, the transport checksum;
//            bit 3 the host side answers the relayed echo requests and UDP datagrams and
//            accepts the TCP opens (else it refuses them: host or port unreachable, a RST or
//            ICMP for a TCP open, alternately); bit 4 the host has no ping sockets
//            from now on; bit 5 the device vouches for the transport checksum
//   1-2      frame length (big endian; cut to what the input has left)
//   ...      the frame, from the destination MAC
//
// Checks: nothing traps; a relayed echo request or UDP datagram is never to a denied, reserved
// or guest-subnet address, goes to 127.0.0.1 exactly when it was sent to 10.0.2.4, and carries
// what the guest sent; a TCP open is never to a denied, reserved or guest-subnet address, and
// the pending opens stay within their bound; the queues never hold more than their limits;
// every frame sent is well formed and comes from our MAC and, for IPv4, from 10.0.2.2,
// 10.0.2.3 or an address a request was relayed to (its echo reply), or for TCP from an
// address the policy relays (the relayed connections and their RSTs); ARP answers only for
// 10.0.2.2, 10.0.2.3 and 10.0.2.4.

import ARP
import Ethernet
import IPv4
import NetCore
import NetStack
import TCP
import UDP

private let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
private let subnet = IPv4CIDR(address: IPv4Address(10, 0, 2, 2), prefixLength: 24)
private let dns = IPv4Address(10, 0, 2, 3)
private let hostLoopback = IPv4Address(10, 0, 2, 4)
private let denied = IPv4CIDR(address: IPv4Address(192, 0, 2, 128), prefixLength: 25)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzReader(data, size)
  var now = Instant(nanoseconds: 1_000_000_000)
  var configuration = DirectStackConfiguration(
    hardwareAddress: ourMAC, address: subnet, seed: 1)
  configuration.ipv6Enabled = false  // the relay is IPv4's; IPv6 has the DirectStack target
  var stack = DirectStack(configuration: configuration, now: now)
  var policy = RelayDestinationPolicy(guestSubnet: subnet.network)
  _ = policy.deny(denied)
  policy.hostLoopback = hostLoopback
  stack.startRelay(RelayGateway(policy: policy, dnsAddress: dns), now: now)
  guard let endpoint = try? stack.udp.bind(address: .v4(dns), port: 53) else {
    fatalError("cannot bind 10.0.2.3 port 53")
  }
  var device = MemoryDevice(mtu: 1500)
  var replySources: Set<IPv4Address> = []
  poll(&stack, &device, now: now, replySources: replySources)

  while !input.isAtEnd {
    let control = input.uint8()
    let length = Int(input.uint16())
    var frame = Array(input.bytes(length))
    switch control & 3 {
    case 1: now += .milliseconds(1)
    case 2: now += .seconds(1)
    case 3: now += .seconds(31)
    default: break
    }
    if control & 4 != 0 { fixChecksums(&frame) }
    if control & 16 != 0 { stack.setRelayEchoAvailable(false) }
    device.receivedFrameInfo = ReceivedFrameInfo(transportChecksumVerified: control & 32 != 0)
    device.inbox.append(PacketBuffer(copying: frame.span, headroom: 0))
    poll(&stack, &device, now: now, replySources: replySources)

    expect(
      (stack.relay?.echoRequests.count ?? 0) <= RelayGateway.echoQueueLimit, "echo queue bound")
    for request in stack.takeRelayedEchoRequests() {
      guard case .v4(let destination) = request.destination else {
        fatalError("an echo request relayed to \(request.destination) with IPv6 off")
      }
      expect(!denied.contains(destination), "relayed to a denied address \(destination)")
      expect(
        destination.isUnicast && !destination.isLoopback && destination != subnet.address
          && destination != dns, "relayed to \(destination)")
      expect(
        destination == hostLoopback || !subnet.contains(destination),
        "relayed inside the guests' subnet")
      expect(
        (request.hostDestination == .v4(IPv4Address(127, 0, 0, 1)))
          == (destination == hostLoopback),
        "host-loopback mapping")
      expect(request.payload.count + 8 + 20 <= request.packet.count, "payload within the packet")
      if control & 8 != 0 {
        replySources.insert(destination)
        stack.sendRelayedEchoReply(
          from: .v4(destination), to: request.guest, identifier: request.identifier,
          sequence: request.sequence, payload: request.payload.span, now: now)
      } else {
        stack.refuseRelayedEcho(request, code: .host, now: now)
      }
    }
    expect(
      (stack.relay?.udpQueuedBytes ?? 0) <= RelayGateway.udpQueueByteLimit, "UDP queue bytes")
    for datagram in stack.takeRelayedUDPDatagrams() {
      guard case .v4(let destination) = datagram.flow.destination else {
        fatalError("a UDP datagram relayed to \(datagram.flow.destination) with IPv6 off")
      }
      expect(!denied.contains(destination), "relayed UDP to a denied address \(destination)")
      expect(
        destination.isUnicast && !destination.isLoopback && destination != dns
          && (destination == hostLoopback || !subnet.contains(destination)),
        "relayed UDP to \(destination)")
      expect(
        (datagram.hostDestination == .v4(IPv4Address(127, 0, 0, 1)))
          == (destination == hostLoopback),
        "host-loopback mapping (UDP)")
      expect(datagram.flow.destinationPort != 0 && datagram.flow.guestPort != 0, "UDP port 0")
      if control & 8 != 0 {
        replySources.insert(destination)
        stack.sendRelayedUDPReply(on: datagram.flow, payload: datagram.payload.span, now: now)
      } else {
        stack.refuseRelayedUDP(datagram.flow, code: .port, now: now)
      }
    }
    expect(
      (stack.tcp.pendingOpens?.count ?? 0) <= DirectStack.relayPendingOpenLimit,
      "pending opens bound")
    for (index, open) in stack.takeRelayedTCPOpens().enumerated() {
      guard case .v4(let destination) = open.tuple.localAddress else {
        fatalError("a TCP open to \(open.tuple.localAddress)")
      }
      expect(!denied.contains(destination), "TCP open to a denied address \(destination)")
      expect(
        destination.isUnicast && !destination.isLoopback && destination != dns
          && (destination == hostLoopback || !subnet.contains(destination)),
        "TCP open to \(destination)")
      if control & 8 != 0 {
        if let connection = stack.acceptRelayedTCPOpen(open.id, now: now) {
          stack.tcp.abort(connection)
        }
      } else if index % 2 == 0 {
        stack.refuseRelayedTCPOpen(open.id, now: now)
      } else {
        stack.rejectRelayedTCPOpen(open.id, code: .host, now: now)
      }
    }
    // The DNS address's service: every query answered with itself.
    while let query = stack.udp.receive(from: endpoint) {
      expect(query.destination == .v4(dns), "a query to \(query.destination) reached 10.0.2.3:53")
      try? stack.sendUDP(
        query.payload.span, from: endpoint, to: query.source, port: query.sourcePort, now: now)
    }
    _ = stack.takeReadableUDPEndpoints()
    _ = stack.takeApplicationNotifications()
    poll(&stack, &device, now: now, replySources: replySources)
  }
  for _ in 0..<4 {
    now += .seconds(31)
    poll(&stack, &device, now: now, replySources: replySources)
  }
  return 0
}

/// One poll of the stack, then every frame it gave the device is checked.
private func poll(
  _ stack: inout DirectStack, _ device: inout MemoryDevice, now: Instant,
  replySources: Set<IPv4Address>
) {
  _ = stack.poll(now: now, device: &device)
  let policy = stack.relay!.policy
  for buffer in device.takeSent() {
    buffer.withBytes { bytes in checkSent(bytes, replySources: replySources, policy: policy) }
  }
}

private func checkSent(
  _ bytes: Span<UInt8>, replySources: Set<IPv4Address>, policy: RelayDestinationPolicy
) {
  guard let frame = try? EthernetFrame(checking: bytes) else { fatalError("sent a runt frame") }
  expect(frame.source == ourMAC, "sent a frame from another MAC")
  switch frame.etherType {
  case .arp:
    guard let arp = try? ARPPacket(checking: frame.payload) else { fatalError("sent bad ARP") }
    let sender = arp.senderProtocolAddress
    expect(
      sender == subnet.address || sender == dns || sender == hostLoopback,
      "ARP for \(sender)")
  case .ipv4:
    guard let packet = try? IPv4Packet(checking: frame.payload) else {
      fatalError("sent an IPv4 packet that does not parse")
    }
    let source = packet.source
    var relayed = false
    if packet.protocolNumber == .tcp, case .relay = policy.decision(for: source) {
      relayed = true
    }
    expect(
      source == subnet.address || source == dns || replySources.contains(source) || relayed,
      "sent from \(source)")
    guard !packet.isFragment else { return }
    switch packet.protocolNumber {
    case .icmp:
      expect((try? ICMPv4Packet(checking: packet.payload)) != nil, "sent bad ICMP")
    case .udp:
      guard let datagram = try? UDPDatagram(checking: packet.payload) else {
        fatalError("sent a UDP datagram that does not parse")
      }
      expect(
        datagram.checksumIsValid(source: .v4(packet.source), destination: .v4(packet.destination)),
        "sent a bad UDP checksum")
    case .tcp:
      break
    default:
      fatalError("sent protocol \(packet.protocolNumber.rawValue)")
    }
  default:
    fatalError("sent EtherType \(frame.etherType.rawValue)")
  }
}
