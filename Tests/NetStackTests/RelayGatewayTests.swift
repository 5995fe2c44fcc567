import ARP
import Ethernet
import IPv4
import NetCore
import NetStack
import Testing
import UDP

/// Relay mode on the direct stack: the stack is the guests' gateway (10.0.2.2), answers for
/// its DNS address (10.0.2.3) on the link, refuses what the policy refuses with ICMP
/// "communication administratively prohibited" (RFC 1812 §5.2.7.1), and queues echo requests
/// to other hosts for the host side, whose replies go back from the address pinged.
struct RelayGatewayTests {
  static let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let guestMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0F)
  static let subnet = IPv4CIDR(address: IPv4Address(10, 0, 2, 2), prefixLength: 24)
  static let dns = IPv4Address(10, 0, 2, 3)
  static let guest = IPv4Address(10, 0, 2, 15)
  static let remote = IPv4Address(192, 0, 2, 7)

  /// A stack at 10.0.2.2/24 in relay mode (unless `relay` is nil), the guest already in its
  /// ARP cache.
  func makeStack(
    relay: RelayGateway? = RelayGateway(
      policy: RelayDestinationPolicy(guestSubnet: Self.subnet), dnsAddress: Self.dns)
  ) -> DirectStack {
    var configuration = DirectStackConfiguration(
      hardwareAddress: Self.ourMAC, address: Self.subnet, seed: 3)
    configuration.ipv6Enabled = false  // IPv4 relaying only: no IPv6 start-up traffic
    var stack = DirectStack(configuration: configuration, now: .zero)
    if let relay { stack.startRelay(relay, now: .zero) }
    stack.ipv4.link.learn(Self.guest, hardwareAddress: Self.guestMAC, now: .zero)
    while stack.transmitQueue.popFirst() != nil {}
    return stack
  }

  /// Hands `stack` one frame through a poll and returns the frames it sent; `verified` when
  /// the device vouches for the transport checksum.
  func receive(_ frame: [UInt8], _ stack: inout DirectStack, verified: Bool = false) -> [[UInt8]] {
    var device = MemoryDevice()
    device.receivedFrameInfo = ReceivedFrameInfo(transportChecksumVerified: verified)
    device.inbox.append(PacketBuffer(copying: frame.span))
    _ = stack.poll(now: .zero, device: &device)
    return device.takeSent().map { $0.withBytes { $0.copyToArray() } }
  }

  /// The guest's frame carrying `transport` in IPv4 to `destination`.
  func frame(
    _ transport: PacketBuffer, _ protocolNumber: IPProtocolNumber, to destination: IPv4Address,
    fragmentOffset: Int = 0, moreFragments: Bool = false
  ) -> [UInt8] {
    var header = IPv4Header(
      source: Self.guest, destination: destination, protocolNumber: protocolNumber,
      payloadLength: transport.count)
    header.fragmentOffset = fragmentOffset
    header.moreFragments = moreFragments
    header.prepend(to: transport)
    EthernetHeader(destination: Self.ourMAC, source: Self.guestMAC, etherType: .ipv4)
      .prepend(to: transport)
    return transport.withBytes { $0.copyToArray() }
  }

  func echoRequest(to destination: IPv4Address, identifier: UInt16 = 0x1234, sequence: UInt16 = 7)
    -> [UInt8]
  {
    let packet = PacketBuffer(copying: [0xDE, 0xAD, 0xBE, 0xEF].span)
    ICMPv4Header.echo(reply: false, identifier: identifier, sequence: sequence).prepend(to: packet)
    return frame(packet, .icmp, to: destination)
  }

  /// The IPv4 packet of an Ethernet frame.
  func ipv4(_ frame: [UInt8]) throws -> IPv4Header {
    try IPv4Packet(checking: frame.span.extracting(droppingFirst: 14)).header
  }

  /// The ICMP message (type, code, the rest) of a frame.
  func icmp(_ frame: [UInt8]) -> [UInt8] { Array(frame[34...]) }

  @Test func anEchoRequestToAnotherHostIsQueuedForTheHostSide() throws {
    var stack = makeStack()
    #expect(receive(echoRequest(to: Self.remote), &stack).isEmpty)
    let requests = stack.takeRelayedEchoRequests()
    #expect(
      requests.map(\.payload) == [[0xDE, 0xAD, 0xBE, 0xEF]]
        && requests.first?.identifier == 0x1234 && requests.first?.sequence == 7)
    let request = try #require(requests.first)
    #expect(request.guest == .v4(Self.guest) && request.destination == .v4(Self.remote))
    #expect(request.hostDestination == .v4(Self.remote))
    #expect(stack.relay?.counters.echoRequestsRelayed == 1)
    #expect(stack.ipv4.counters.packetsRelayed == 1)
    let left = stack.takeRelayedEchoRequests()
    #expect(left.isEmpty)
  }

  @Test func theReplyGoesBackFromTheAddressPingedWithTheGuestsIdentifier() throws {
    var stack = makeStack()
    stack.sendRelayedEchoReply(
      from: .v4(Self.remote), to: .v4(Self.guest), identifier: 0x1234, sequence: 7,
      payload: [1, 2, 3].span, now: .zero)
    let sent = stack.transmitQueue.popFirst()
    let frame = try #require(sent).withBytes { $0.copyToArray() }
    let header = try ipv4(frame)
    #expect(header.source == Self.remote && header.destination == Self.guest)
    // The ICMP message, without the frame's padding.
    let icmpBytes = Array(frame[34..<(34 + header.payloadLength)])
    let message = try ICMPv4Packet(checking: icmpBytes.span)
    #expect(message.type == .echoReply)
    #expect(message.header.identifier == 0x1234 && message.header.sequence == 7)
    #expect(message.payload.copyToArray() == [1, 2, 3])
    #expect(stack.ipv4.icmpCounters.echoRepliesRelayed == 1)
  }

  @Test func anErrorTheHostLearntReachesTheGuestQuotingItsRequest() throws {
    var stack = makeStack()
    stack.sendRelayedEchoError(
      .host, guest: .v4(Self.guest), destination: .v4(Self.remote), identifier: 0x1234,
      sequence: 7,
      now: .zero)
    let sent = stack.transmitQueue.popFirst()
    let frame = try #require(sent).withBytes { $0.copyToArray() }
    let header = try ipv4(frame)
    #expect(header.source == Self.subnet.address && header.destination == Self.guest)
    let message = icmp(frame)
    // Destination unreachable, host; the quote: the request's IP header, then its echo header.
    #expect(Array(message[0..<2]) == [3, 1])
    let quote = Array(message[8..<36])
    let quoted = try IPv4Packet(checking: quote.span).header
    #expect(quoted.source == Self.guest && quoted.destination == Self.remote)
    #expect(quoted.protocolNumber == .icmp)
    #expect(Array(message[28..<30]) == [8, 0])
    #expect(Array(message[32..<36]) == [0x12, 0x34, 0, 7])
  }

  @Test func aDeniedDestinationIsAnsweredAdministrativelyProhibited() throws {
    var policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    let added = policy.deny(IPv4CIDR(address: IPv4Address(192, 0, 2, 0), prefixLength: 24))
    #expect(added)
    var stack = makeStack(relay: RelayGateway(policy: policy, dnsAddress: Self.dns))
    let sent = receive(echoRequest(to: Self.remote), &stack)
    #expect(sent.count == 1)
    let answer = try #require(sent.first)
    let header = try ipv4(answer)
    #expect(header.source == Self.subnet.address && header.destination == Self.guest)
    #expect(Array(icmp(answer)[0..<2]) == [3, 13])
    #expect(stack.relay?.counters.refusedDenied == 1)
    let left = stack.takeRelayedEchoRequests()
    #expect(left.isEmpty)
  }

  @Test func theHostsLoopbackIsRefusedUnlessMapped() throws {
    var stack = makeStack()
    let sent = receive(echoRequest(to: IPv4Address(127, 0, 0, 1)), &stack)
    #expect(sent.count == 1 && sent.first.map { Array(icmp($0)[0..<2]) } == [3, 13])
    #expect(stack.relay?.counters.refusedReserved == 1)

    var policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    policy.hostLoopback = IPv4Address(10, 0, 3, 2)
    var mapped = makeStack(relay: RelayGateway(policy: policy, dnsAddress: Self.dns))
    #expect(receive(echoRequest(to: IPv4Address(10, 0, 3, 2)), &mapped).isEmpty)
    let taken = mapped.takeRelayedEchoRequests()
    let request = try #require(taken.first)
    #expect(request.destination == .v4(IPv4Address(10, 0, 3, 2)))
    #expect(request.hostDestination == .v4(IPv4Address(127, 0, 0, 1)))
  }

  @Test func withoutPingSocketsEchoIsRefusedAndCounted() {
    var stack = makeStack()
    stack.setRelayEchoAvailable(false)
    let sent = receive(echoRequest(to: Self.remote), &stack)
    #expect(sent.count == 1 && sent.first.map { Array(icmp($0)[0..<2]) } == [3, 13])
    #expect(stack.relay?.counters.echoRefusedUnavailable == 1)
    let left = stack.takeRelayedEchoRequests()
    #expect(left.isEmpty)
  }

  @Test func theEchoQueueIsBounded() {
    var stack = makeStack()
    for sequence in 0..<(RelayGateway.echoQueueLimit + 5) {
      _ = receive(echoRequest(to: Self.remote, sequence: UInt16(sequence)), &stack)
    }
    #expect(stack.relay?.counters.echoDroppedQueueFull == 5)
    let queued = stack.takeRelayedEchoRequests()
    #expect(queued.count == RelayGateway.echoQueueLimit)
  }

  func udpFrame(_ payload: [UInt8], from port: UInt16 = 5000, to destinationPort: UInt16 = 9)
    -> [UInt8]
  {
    let datagram = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: port, destinationPort: destinationPort).prepend(
      to: datagram, source: .v4(Self.guest), destination: .v4(Self.remote))
    return frame(datagram, .udp, to: Self.remote)
  }

  @Test func aUDPDatagramToAnotherHostIsQueuedAndTheReplyComesFromIt() throws {
    var stack = makeStack()
    #expect(receive(udpFrame([1, 2, 3]), &stack).isEmpty)
    let taken = stack.takeRelayedUDPDatagrams()
    let datagram = try #require(taken.first)
    let flow = UDPFlowKey(
      guest: .v4(Self.guest), guestPort: 5000, destination: .v4(Self.remote), destinationPort: 9)
    #expect(
      datagram
        == RelayedUDPDatagram(flow: flow, hostDestination: .v4(Self.remote), payload: [1, 2, 3]))
    #expect(stack.relay?.counters.udpDatagramsRelayed == 1 && stack.relay?.udpQueuedBytes == 0)

    let replied = stack.sendRelayedUDPReply(on: flow, payload: [7, 8].span, now: .zero)
    #expect(replied)
    let sent = stack.transmitQueue.popFirst()
    let reply = try #require(sent).withBytes { $0.copyToArray() }
    let header = try ipv4(reply)
    #expect(header.source == Self.remote && header.destination == Self.guest)
    let udpBytes = Array(reply[34..<(34 + header.payloadLength)])
    let parsed = try UDPDatagram(checking: udpBytes.span)
    let ports = (parsed.sourcePort, parsed.destinationPort)
    let payload = parsed.payload.copyToArray()
    let checksumVerifies = parsed.checksumIsValid(
      source: .v4(Self.remote), destination: .v4(Self.guest))
    #expect(ports == (9, 5000))
    #expect(payload == [7, 8])
    #expect(checksumVerifies)
    #expect(stack.relay?.counters.udpRepliesSent == 1)

    // A refusal: port unreachable from the gateway, quoting the flow's headers.
    stack.refuseRelayedUDP(flow, code: .port, now: .zero)
    let refusalBuffer = stack.transmitQueue.popFirst()
    let refusal = try #require(refusalBuffer).withBytes { $0.copyToArray() }
    #expect(try ipv4(refusal).source == Self.subnet.address)
    #expect(Array(icmp(refusal)[0..<2]) == [3, 3])
    // The quote: the guest's IPv4 header to the remote host and UDP ports 5000 -> 9.
    #expect(Array(refusal[(34 + 8 + 12)..<(34 + 8 + 20)]) == [10, 0, 2, 15, 192, 0, 2, 7])
    #expect(Array(refusal[(34 + 8 + 20)..<(34 + 8 + 24)]) == [0x13, 0x88, 0, 9])
  }

  @Test func badUDPAndAFullQueueAreDroppedAndCounted() {
    var stack = makeStack()
    var broken = udpFrame([1, 2, 3])
    broken[broken.count - 1] ^= 0xFF  // the checksum no longer verifies
    #expect(receive(broken, &stack).isEmpty)
    #expect(receive(udpFrame([1], to: 0), &stack).isEmpty)
    #expect(stack.relay?.counters.udpDroppedMalformed == 2)
    // A checksum the device vouches for (a guest's kernel offloading it to the TAP) passes.
    #expect(receive(broken, &stack, verified: true).isEmpty)
    #expect(stack.relay?.counters.udpDatagramsRelayed == 1)
    let vouched = stack.takeRelayedUDPDatagrams()
    #expect(vouched.count == 1)
    // 1 MiB of payload at most: 16 datagrams of 65,000 bytes fit, the 17th does not.
    let big = [UInt8](repeating: 0x5A, count: 65_000)
    for _ in 0..<17 { _ = receive(udpFrame(big), &stack) }
    #expect(stack.relay?.counters.udpDroppedQueueFull == 1)
    #expect(stack.relay?.udpQueuedBytes == 16 * 65_000)
    let queued = stack.takeRelayedUDPDatagrams()
    #expect(queued.count == 16)
  }

  @Test func otherProtocolsToOtherHostsAreDroppedAndCounted() {
    var stack = makeStack()
    // GRE (47): neither ICMP, UDP nor TCP, which the relay takes.
    let segment = PacketBuffer(copying: [UInt8](repeating: 0, count: 20).span)
    #expect(
      receive(frame(segment, IPProtocolNumber(rawValue: 47), to: Self.remote), &stack).isEmpty)
    #expect(stack.relay?.counters.droppedUnsupportedProtocol == 1)
  }

  @Test func aFragmentedDatagramToAnotherHostIsRelayedWhole() throws {
    var stack = makeStack()
    // A 3000-byte UDP datagram in two fragments, as a guest with MTU 1500 sends it.
    let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let datagram = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: 5000, destinationPort: 9).prepend(
      to: datagram, source: .v4(Self.guest), destination: .v4(Self.remote))
    let bytes = datagram.withBytes { $0.copyToArray() }
    let head = Array(bytes[0..<1480])
    let tail = Array(bytes[1480...])
    let first = PacketBuffer(copying: head.span)
    let second = PacketBuffer(copying: tail.span)
    #expect(receive(frame(first, .udp, to: Self.remote, moreFragments: true), &stack).isEmpty)
    #expect(stack.takeRelayedUDPDatagrams().isEmpty)
    #expect(receive(frame(second, .udp, to: Self.remote, fragmentOffset: 1480), &stack).isEmpty)
    let relayed = stack.takeRelayedUDPDatagrams()
    let whole = try #require(relayed.first)
    #expect(relayed.count == 1 && whole.payload == payload)
    #expect(whole.flow.guestPort == 5000 && whole.flow.destinationPort == 9)
  }

  @Test func withoutRelayModeOtherHostsAreNotOurs() {
    var stack = makeStack(relay: nil)
    #expect(receive(echoRequest(to: Self.remote), &stack).isEmpty)
    #expect(stack.ipv4.counters.droppedNotForUs == 1)
    let left = stack.takeRelayedEchoRequests()
    #expect(left.isEmpty)
  }

  @Test func theDNSAddressIsAnsweredForOnTheLink() throws {
    var stack = makeStack()
    // ARP: who has 10.0.2.3? Our MAC.
    var arp = [UInt8](repeating: 0, count: 28)
    var span = arp.mutableSpan
    ARPMessage(
      operation: .request, senderHardwareAddress: Self.guestMAC, senderProtocolAddress: Self.guest,
      targetHardwareAddress: .zero, targetProtocolAddress: Self.dns
    ).emit(into: &span)
    let request = PacketBuffer(copying: arp.span)
    EthernetHeader(destination: .broadcast, source: Self.guestMAC, etherType: .arp)
      .prepend(to: request)
    let answers = receive(request.withBytes { $0.copyToArray() }, &stack)
    let answer = try #require(answers.first)
    let reply = try ARPPacket(checking: answer.span.extracting(droppingFirst: 14)).message
    #expect(reply.operation == .reply && reply.senderProtocolAddress == Self.dns)
    #expect(reply.senderHardwareAddress == Self.ourMAC)

    // Ping of the DNS address: answered from it.
    let pong = receive(echoRequest(to: Self.dns), &stack)
    #expect(try pong.first.map { try ipv4($0).source } == Self.dns)

    // UDP to port 53 there reaches an endpoint bound to it; port 53 of 10.0.2.2 is closed.
    let endpoint = try stack.udp.bind(address: .v4(Self.dns), port: 53)
    let query = PacketBuffer(copying: [9, 9].span)
    UDPHeader(sourcePort: 4000, destinationPort: 53).prepend(
      to: query, source: .v4(Self.guest), destination: .v4(Self.dns))
    #expect(receive(frame(query, .udp, to: Self.dns), &stack).isEmpty)
    #expect(stack.udp.receive(from: endpoint)?.payload == [9, 9])
    let other = PacketBuffer(copying: [9, 9].span)
    UDPHeader(sourcePort: 4000, destinationPort: 53).prepend(
      to: other, source: .v4(Self.guest), destination: .v4(Self.subnet.address))
    let refused = receive(frame(other, .udp, to: Self.subnet.address), &stack)
    #expect(refused.first.map { Array(icmp($0)[0..<2]) } == [3, 3])
  }
}
