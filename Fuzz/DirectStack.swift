// Fuzz target: the whole stack (Sources/NetStack/DirectStack.swift and every layer below).
//
// The stack is 02:00:00:00:00:02, 10.0.0.2/24, gateway 10.0.0.1 (the addresses of the
// namespace that Fuzz/capture-corpus captures from), with an echo service on UDP port 7, the
// stack's own TCP echo and HTTP services (TCPServiceHost) on ports 7 and 80, and a DHCP server
// for 10.0.0.100-10.0.0.103 on UDP port 67. Frames go in through the stack's one poll, from a
// MemoryDevice.
// Input: records, each one received frame:
//
//   byte 0   control: bits 0-1 clock advance before the frame: 0, 1 ms, 1 s, 31 s;
//            bit 2 correct the IPv4 header checksum and, for an unfragmented ICMP or UDP
//            datagram, the transport checksum (so the fuzzer gets past them);
//            bit 3 the device vouches for the transport checksum (ReceivedFrameInfo);
//            bit 4 afterwards, ping 10.0.0.1 with 2000 bytes (fragmented, needs ARP);
//            bit 5 afterwards, ping 192.0.2.1 (through the gateway)
//   1-2      frame length (big endian; cut to what the input has left)
//   ...      the frame, from the destination MAC, without the frame check sequence
//
// After each frame the target polls the stack, runs the UDP echo and the pings, polls again
// and checks what the device was given; at the end it lets every timer run out.
// Checks: nothing traps; every frame the stack sends is well formed: Ethernet from our MAC,
// at least 60 bytes long, ARP that parses, IPv4 that parses (checksum included), fits the MTU and comes from our
// address, ICMP, UDP and TCP that parse and whose checksums verify; IPv6 (the stack's
// link-local address, its detection and MLD from ::) that parses, fits the MTU, and whose
// ICMPv6 checksum verifies.

import ARP
import Applications
import DHCP
import Ethernet
import IPv4
import IPv6
import NetCore
import NetStack
import TCP
import UDP

private let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
private let ourAddress = IPv4Address(10, 0, 0, 2)
private let neighbour = IPv4Address(10, 0, 0, 1)
private let beyondGateway = IPv4Address(192, 0, 2, 1)
private let pingPayload = [UInt8](repeating: 0xA5, count: 2000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = FuzzReader(data, size)
  var now = Instant(nanoseconds: 1_000_000_000)
  var stack = DirectStack(
    configuration: DirectStackConfiguration(
      hardwareAddress: ourMAC, address: IPv4CIDR(address: ourAddress, prefixLength: 24),
      gateway: neighbour, seed: 1),
    now: now)
  guard let echo = try? stack.udp.bind(port: 7), (try? stack.startService(.echo, port: 7)) != nil,
    (try? stack.startService(
      .http(HTTPServer(platform: "fuzz", budget: stack.budget)), port: 80)) != nil
  else { fatalError("cannot bind ports 7 and 80") }
  var device = MemoryDevice(mtu: 1500)
  guard
    (try? stack.startDHCPServer(
      DHCPServer.Configuration(
        address: IPv4CIDR(address: ourAddress, prefixLength: 24),
        pool: IPv4Address(10, 0, 0, 100)...IPv4Address(10, 0, 0, 103)))) != nil
  else { fatalError("cannot bind port 67") }
  poll(&stack, &device, now: now)

  var sequence: UInt16 = 0
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
    device.receivedFrameInfo = ReceivedFrameInfo(transportChecksumVerified: control & 8 != 0)
    device.inbox.append(PacketBuffer(copying: frame.span, headroom: 0))
    poll(&stack, &device, now: now)

    // The application: a UDP echo service, and pings.
    for endpoint in stack.takeReadableUDPEndpoints() {
      expect(endpoint == echo, "a datagram for an endpoint nobody bound")
      while let datagram = stack.udp.receive(from: endpoint) {
        try? stack.udp.send(
          datagram.payload.span, from: endpoint, to: datagram.source, port: datagram.sourcePort,
          through: &stack.network, now: now)
      }
    }
    if control & 16 != 0 {
      sequence &+= 1
      try? stack.ipv4.sendEchoRequest(
        to: neighbour, identifier: 0x4242, sequence: sequence, payload: pingPayload.span, now: now)
    }
    if control & 32 != 0 {
      sequence &+= 1
      try? stack.ipv4.sendEchoRequest(
        to: beyondGateway, identifier: 0x4242, sequence: sequence,
        payload: pingPayload.span.extracting(0..<100), now: now)
    }
    while stack.ipv4.echoReplies.popFirst() != nil {}
    _ = stack.takeApplicationNotifications()
    poll(&stack, &device, now: now)
  }

  // Let every timer run out: ARP retries and aging, reassembly timeouts, the services'.
  for _ in 0..<4 {
    now += .seconds(31)
    poll(&stack, &device, now: now)
  }
  return 0
}

/// One poll of the stack, then every frame it gave the device is checked.
private func poll(_ stack: inout DirectStack, _ device: inout MemoryDevice, now: Instant) {
  _ = stack.poll(now: now, device: &device)
  for buffer in device.takeSent() {
    expect(buffer.offload == .none, "a frame left work to a device that offers no offload")
    buffer.withBytes { bytes in checkSent(bytes) }
  }
}

private func checkSent(_ bytes: Span<UInt8>) {
  guard let frame = try? EthernetFrame(checking: bytes) else { fatalError("sent a runt frame") }
  expect(bytes.count >= EthernetHeader.minimumFrameLength, "sent an unpadded frame")
  expect(frame.source == ourMAC, "sent a frame from another MAC")
  // The destination may be any MAC, ours included: ARP believes what neighbours claim.
  switch frame.etherType {
  case .arp:
    guard let arp = try? ARPPacket(checking: frame.payload) else { fatalError("sent bad ARP") }
    expect(arp.senderHardwareAddress == ourMAC, "ARP sender MAC")
    expect(arp.senderProtocolAddress == ourAddress, "ARP sender address")
  case .ipv4:
    guard let packet = try? IPv4Packet(checking: frame.payload) else {
      fatalError("sent an IPv4 packet that does not parse")
    }
    expect(packet.totalLength <= 1500, "sent \(packet.totalLength) bytes over a 1500 MTU")
    expect(packet.source == ourAddress, "sent from \(packet.source)")
    expect(packet.timeToLive > 0, "sent TTL 0")
    guard !packet.isFragment else {
      expect(
        !packet.moreFragments || packet.payload.count % 8 == 0, "fragment not a multiple of 8")
      return
    }
    switch packet.protocolNumber {
    case .icmp:
      expect((try? ICMPv4Packet(checking: packet.payload)) != nil, "sent bad ICMP")
    case .udp:
      guard let datagram = try? UDPDatagram(checking: packet.payload) else {
        fatalError("sent a UDP datagram that does not parse")
      }
      expect(datagram.length == packet.payload.count, "UDP length")
      expect(
        datagram.checksumIsValid(source: .v4(packet.source), destination: .v4(packet.destination)),
        "sent a bad UDP checksum")
    case .tcp:
      guard let segment = try? TCPSegment(checking: packet.payload) else {
        fatalError("sent a TCP segment that does not parse")
      }
      expect(
        segment.checksumIsValid(source: .v4(packet.source), destination: .v4(packet.destination)),
        "sent a bad TCP checksum")
    default:
      fatalError("sent protocol \(packet.protocolNumber.rawValue)")
    }
  case .ipv6:
    guard let packet = try? IPv6Packet(checking: frame.payload) else {
      fatalError("sent an IPv6 packet that does not parse")
    }
    expect(
      IPv6Header.length + packet.payloadLength <= 1500,
      "sent \(IPv6Header.length + packet.payloadLength) bytes over a 1500 MTU")
    // The fuzzed stack has no configured IPv6 address and forms none (no SLAAC).
    expect(
      packet.source.isUnspecified || packet.source.isLinkLocal, "sent from \(packet.source)")
    expect(packet.hopLimit > 0, "sent hop limit 0")
    if packet.nextHeader == .icmpv6 {
      expect(
        (try? ICMPv6Packet(
          checking: packet.payload, source: packet.source, destination: packet.destination))
          != nil, "sent bad ICMPv6")
    }
  default:
    fatalError("sent EtherType \(frame.etherType.rawValue)")
  }
}
