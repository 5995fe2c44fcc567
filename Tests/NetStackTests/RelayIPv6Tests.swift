import Ethernet
import IPv6
import NetCore
import TCP
import Testing
import UDP

@testable import NetStack

/// The relay over IPv6 (`DirectStack+RelayIPv6.swift`, `IPv6Layer+Relay.swift`): the
/// intercept's decisions for a packet from the guest (own address: ours; link-local or
/// multicast: never relayed; another global address: relayed; denied, or in the guests' own
/// prefix: ICMPv6 administratively prohibited, RFC 4443 §3.1), and what goes back: UDP replies
/// and echo replies from the address the guest sent to, RSTs and ICMPv6 errors for refused
/// and unreachable opens. The stack is DirectStackIPv6Tests's fd00:77::2/64; the guest its
/// peer fd00:77::ff:fe00:a; the remote host fd01::2.
struct RelayIPv6Tests {
  typealias Fixture = DirectStackIPv6Tests
  static let remote = IPv6Address(0xfd01, 0, 0, 0, 0, 0, 0, 2)
  static let guestPrefix = IPv6CIDR(address: Fixture.ours, prefixLength: 64)

  /// A stack past address detection, in relay mode with `policy` (the guests' prefix filled
  /// in), that knows the guest's MAC; the frames it sent so far taken.
  func makeStack(
    policy: RelayDestinationPolicy = RelayDestinationPolicy(
      guestSubnet: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24))
  ) throws -> (DirectStack, MemoryDevice, Instant) {
    var device = MemoryDevice()
    var (stack, now) = try Fixture.stackPastDetection(device: &device)
    var policy = policy
    policy.guestPrefixes = [Self.guestPrefix.network]
    stack.startRelay(RelayGateway(policy: policy, dnsAddress: nil), now: now)
    device.inbox.append(
      Fixture.frame(
        Fixture.neighbourSolicitation,
        to: MACAddress(multicast: Fixture.ours.solicitedNodeMulticast)))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    _ = device.takeSent()
    return (stack, device, now)
  }

  /// The guest's IPv6 packet carrying `transport` from `source` to `destination`.
  func packet(
    _ transport: PacketBuffer, _ nextHeader: IPv6NextHeader, to destination: IPv6Address,
    from source: IPv6Address = Fixture.peer
  ) -> [UInt8] {
    IPv6Header(
      source: source, destination: destination, nextHeader: nextHeader,
      payloadLength: transport.count
    ).prepend(to: transport)
    return transport.withBytes { $0.copyToArray() }
  }

  func udp(
    to destination: IPv6Address, from source: IPv6Address = Fixture.peer,
    payload: [UInt8] = [1, 2, 3]
  ) -> [UInt8] {
    let datagram = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: 5000, destinationPort: 9).prepend(
      to: datagram, source: .v6(source), destination: .v6(destination))
    return packet(datagram, .udp, to: destination, from: source)
  }

  func echoRequest(to destination: IPv6Address) -> [UInt8] {
    let message = PacketBuffer(copying: [0xDE, 0xAD, 0xBE, 0xEF].span)
    ICMPv6Header.echo(reply: false, identifier: 0x1234, sequence: 7)
      .prepend(to: message, source: Fixture.peer, destination: destination)
    return packet(message, .icmpv6, to: destination)
  }

  /// The guest's SYN from port 40000 to `destination`:80.
  func syn(to destination: IPv6Address) -> [UInt8] {
    var options = TCPOptions()
    options.maximumSegmentSize = 1440
    let header = TCPHeader(
      sourcePort: 40000, destinationPort: 80, sequenceNumber: SequenceNumber(1_000_000),
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 64800, options: options)
    let segment = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + header.length)
    header.prepend(to: segment, source: .v6(Fixture.peer), destination: .v6(destination))
    return packet(segment, .tcp, to: destination)
  }

  /// Hands the stack `packets` (to our MAC) in one poll; returns the IPv6 packets it sent.
  func receive(
    _ packets: [[UInt8]], _ stack: inout DirectStack, _ device: inout MemoryDevice,
    _ now: inout Instant
  ) -> [[UInt8]] {
    for packet in packets { device.inbox.append(Fixture.frame(packet, to: Fixture.ourMAC)) }
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    return sent(&stack, &device, &now)
  }

  /// What the stack sends at the next poll, as IPv6 packets, without its own neighbour
  /// discovery and MLD (ICMPv6 types from 130 on, or behind a hop-by-hop header).
  func sent(_ stack: inout DirectStack, _ device: inout MemoryDevice, _ now: inout Instant)
    -> [[UInt8]]
  {
    _ = stack.poll(now: now, device: &device)
    return Fixture.decode(device.takeSent()).filter { $0.0.etherType == .ipv6 }.map { $0.1 }
      .filter { packet in
        packet.count > 40 && packet[6] != 0 && !(packet[6] == 58 && packet[40] >= 130)
      }
  }

  func source(_ packet: [UInt8]) -> IPv6Address { IPv6Address(packet.span, at: 8) }
  func destination(_ packet: [UInt8]) -> IPv6Address { IPv6Address(packet.span, at: 24) }

  // MARK: The IPv6 DNS address

  /// The relay's IPv6 DNS address in these tests (fd00::3 in the daemon's plan).
  static let dnsAddress6 = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 3)

  /// A relay gateway for the guest prefix with DNS over IPv6 at ``dnsAddress6`` only.
  func relayWithDNS6() -> RelayGateway {
    var policy = RelayDestinationPolicy(
      guestSubnet: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24))
    policy.guestPrefixes = [Self.guestPrefix.network]
    return RelayGateway(policy: policy, dnsAddress: nil, dnsAddress6: Self.dnsAddress6)
  }

  /// The relay's IPv6 DNS address (fd00:77::3 here, as fd00::3 in the plan) is the stack's once
  /// duplicate address detection passes: a datagram to it is the stack's (not relayed), a
  /// neighbour solicitation for it is answered with the stack's MAC, and the stack never
  /// chooses it as a source.
  @Test func theIPv6DNSAddressIsTheStacksButNeverASource() throws {
    var device = MemoryDevice()
    var (stack, now) = try Fixture.stackPastDetection(device: &device)
    let dns = Self.dnsAddress6
    stack.startRelay(relayWithDNS6(), now: now)
    #expect(stack.relay?.dnsAddress6 == dns)
    #expect(stack.ipv6.addressTable.entry(for: dns)?.origin == .service)
    for _ in 0..<50 {
      now = now + .milliseconds(100)
      _ = stack.poll(now: now, device: &device)
    }
    _ = device.takeSent()
    #expect(stack.ipv6.addressTable.isAssigned(dns))
    #expect(stack.ipv6.sourceAddress(for: Fixture.peer) == Fixture.ours)
    #expect(stack.ipv6.sourceAddress(for: Self.remote) == Fixture.ours)

    let endpoint = try stack.udp.bind(address: .v6(dns), port: 9)
    #expect(receive([udp(to: dns)], &stack, &device, &now).isEmpty)
    #expect(stack.udp.receive(from: endpoint)?.payload == [1, 2, 3])
    #expect(stack.ipv6.counters.packetsRelayed == 0)

    let solicitation = NeighbourSolicitationMessage(
      target: dns, options: NDPOptions(sourceLinkLayerAddress: Fixture.peerMAC))
    let message = PacketBuffer(copying: solicitation.body.span)
    solicitation.icmpHeader.prepend(
      to: message, source: Fixture.peer, destination: dns.solicitedNodeMulticast)
    IPv6Header(
      source: Fixture.peer, destination: dns.solicitedNodeMulticast, nextHeader: .icmpv6,
      payloadLength: message.count, hopLimit: 255
    ).prepend(to: message)
    device.inbox.append(
      Fixture.frame(
        message.withBytes { $0.copyToArray() },
        to: MACAddress(multicast: dns.solicitedNodeMulticast)))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    let advertisements = Fixture.decode(device.takeSent()).filter { header, packet in
      header.etherType == .ipv6 && packet.count >= 64 && packet[6] == 58 && packet[40] == 136
    }
    try #require(advertisements.count == 1)
    let (header, packet) = advertisements[0]
    #expect(IPv6Address(packet.span, at: 48) == dns)
    #expect(header.source == Fixture.ourMAC && header.destination == Fixture.peerMAC)
  }

  /// A guest that answers for the IPv6 DNS address while it is tentative (its advertisement
  /// of it) makes it a duplicate: the stack says so (the daemon logs it and shows it in
  /// status), and never takes it.
  @Test func aGuestDefendingTheIPv6DNSAddressIsReported() throws {
    var device = MemoryDevice()
    var (stack, now) = try Fixture.stackPastDetection(device: &device)
    let dns = Self.dnsAddress6
    stack.startRelay(relayWithDNS6(), now: now)
    #expect(!stack.relayDNS6IsDuplicate, "tentative")
    let advertisement = NeighbourAdvertisementMessage(
      solicited: false, override: true, target: dns,
      options: NDPOptions(targetLinkLayerAddress: Fixture.peerMAC))
    let message = PacketBuffer(copying: advertisement.body.span)
    advertisement.icmpHeader.prepend(to: message, source: Fixture.peer, destination: .allNodes)
    IPv6Header(
      source: Fixture.peer, destination: .allNodes, nextHeader: .icmpv6,
      payloadLength: message.count, hopLimit: 255
    ).prepend(to: message)
    device.inbox.append(
      Fixture.frame(
        message.withBytes { $0.copyToArray() }, to: MACAddress(multicast: .allNodes)))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    #expect(stack.relayDNS6IsDuplicate)
    #expect(stack.ipv6.ndpCounters.duplicateAddresses == 1)
    for _ in 0..<50 {
      now = now + .milliseconds(100)
      _ = stack.poll(now: now, device: &device)
    }
    #expect(!stack.ipv6.addressTable.isAssigned(dns))
    #expect(stack.relayDNS6IsDuplicate)
  }

  /// Without IPv6 running, the gateway keeps no IPv6 DNS address.
  @Test func noIPv6MeansNoIPv6DNSAddress() throws {
    var configuration = DirectStackConfiguration(
      hardwareAddress: Fixture.ourMAC, address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 1)
    configuration.ipv6Enabled = false
    var stack = DirectStack(configuration: configuration, now: Fixture.start)
    stack.startRelay(
      RelayGateway(
        policy: RelayDestinationPolicy(
          guestSubnet: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24)),
        dnsAddress: IPv4Address(10, 0, 0, 3), dnsAddress6: IPv6Address(0xfd00, 0, 0, 0, 0, 0, 0, 3)),
      now: Fixture.start)
    #expect(stack.relay?.dnsAddress6 == nil)
    #expect(stack.relay?.dnsAddress == IPv4Address(10, 0, 0, 3))
  }

  // MARK: The intercept's decisions

  @Test func udpToAnotherGlobalAddressIsRelayedAndTheReplyComesFromIt() throws {
    var (stack, device, now) = try makeStack()
    #expect(receive([udp(to: Self.remote)], &stack, &device, &now).isEmpty)
    let taken = stack.takeRelayedUDPDatagrams()
    let flow = UDPFlowKey(
      guest: .v6(Fixture.peer), guestPort: 5000, destination: .v6(Self.remote), destinationPort: 9)
    #expect(
      taken == [
        RelayedUDPDatagram(flow: flow, hostDestination: .v6(Self.remote), payload: [1, 2, 3])
      ])
    #expect(stack.relay?.counters.udpDatagramsRelayed == 1)
    #expect(stack.ipv6.counters.packetsRelayed == 1)

    let replied = stack.sendRelayedUDPReply(on: flow, payload: [7, 8].span, now: now)
    #expect(replied)
    let replies = sent(&stack, &device, &now)
    try #require(replies.count == 1)
    let reply = replies[0]
    #expect(source(reply) == Self.remote && destination(reply) == Fixture.peer)
    #expect(reply[6] == 17)
    let datagram = try UDPDatagram(checking: Array(reply[40...]).span)
    let ports = (datagram.sourcePort, datagram.destinationPort)
    #expect(ports == (9, 5000))
    #expect(datagram.payload.copyToArray() == [7, 8])
    let checksumVerifies = datagram.checksumIsValid(
      source: .v6(Self.remote), destination: .v6(Fixture.peer))
    #expect(checksumVerifies)
  }

  @Test func udpToOurOwnAddressIsOursNotRelayed() throws {
    var (stack, device, now) = try makeStack()
    let sent = receive([udp(to: Fixture.ours)], &stack, &device, &now)
    // Nobody listens on port 9: port unreachable from us, as without the relay.
    #expect(sent.count == 1 && sent.first?[40] == 1 && sent.first?[41] == 4)
    let left = stack.takeRelayedUDPDatagrams()
    #expect(left.isEmpty)
    #expect(stack.ipv6.counters.packetsRelayed == 0)
  }

  @Test(arguments: [
    IPv6Address(0xfe80, 0, 0, 0, 0, 0, 0, 0x99),  // link-local
    IPv6Address(0xff0e, 0, 0, 0, 0, 0, 0, 1),  // global multicast
    IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 0x99),  // link-scope multicast, not joined
  ])
  func linkLocalAndMulticastAreNeverRelayed(_ destination: IPv6Address) throws {
    var (stack, device, now) = try makeStack()
    #expect(receive([udp(to: destination)], &stack, &device, &now).isEmpty)
    let left = stack.takeRelayedUDPDatagrams()
    #expect(left.isEmpty)
    #expect(stack.ipv6.counters.packetsRelayed == 0)
    #expect(stack.ipv6.counters.droppedNotForUs == 1)
    #expect(stack.relay?.counters == RelayCounters())
  }

  @Test func aDeniedRangeIsRefusedAdministrativelyProhibitedAndCounted() throws {
    var policy = RelayDestinationPolicy(
      guestSubnet: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24))
    let added = policy.deny(
      IPv6CIDR(address: IPv6Address(0xfd01, 0, 0, 0, 0, 0, 0, 0), prefixLength: 64))
    #expect(added)
    var (stack, device, now) = try makeStack(policy: policy)
    let request = udp(to: Self.remote)
    let sent = receive([request], &stack, &device, &now)
    try #require(sent.count == 1)
    let error = sent[0]
    // Destination unreachable, code 1, from the gateway, quoting the guest's packet.
    #expect(error[40] == 1 && error[41] == 1)
    #expect(source(error) == Fixture.ours && destination(error) == Fixture.peer)
    #expect(Array(error[48...]) == request)
    #expect(stack.relay?.counters.refusedDenied == 1)
    let left = stack.takeRelayedUDPDatagrams()
    #expect(left.isEmpty)
  }

  @Test func theGuestsOwnPrefixIsRefused() throws {
    var (stack, device, now) = try makeStack()
    let sent = receive(
      [udp(to: IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x99))], &stack, &device, &now)
    #expect(sent.count == 1 && sent.first?[40] == 1 && sent.first?[41] == 1)
    #expect(stack.relay?.counters.refusedGuestSubnet == 1)
  }

  @Test func aLinkLocalSourceIsRefusedBeyondScope() throws {
    var (stack, device, now) = try makeStack()
    let linkLocal = IPv6Address(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0x0a)
    let errorsBefore = stack.ipv6.icmpCounters.errorsSent
    _ = receive([udp(to: Self.remote, from: linkLocal)], &stack, &device, &now)
    // The error (code 2) waits for the link-local neighbour's resolution, which nobody answers
    // here.
    #expect(stack.ipv6.icmpCounters.errorsSent == errorsBefore + 1)
    #expect(stack.relay?.counters.refusedLinkLocalSource == 1)
    #expect(stack.relay?.counters.refusedReserved == 0, "the destination is not reserved")
    let left = stack.takeRelayedUDPDatagrams()
    #expect(left.isEmpty)
  }

  @Test func withoutRelayModeAnotherAddressIsDropped() throws {
    var device = MemoryDevice()
    var (stack, now) = try Fixture.stackPastDetection(device: &device)
    _ = device.takeSent()
    #expect(receive([udp(to: Self.remote)], &stack, &device, &now).isEmpty)
    #expect(stack.ipv6.counters.droppedNotForUs == 1)
    #expect(stack.ipv6.counters.packetsRelayed == 0)
  }

  // MARK: Echo

  @Test func anEchoRequestIsQueuedAndTheReplyComesFromTheAddressPinged() throws {
    var (stack, device, now) = try makeStack()
    #expect(receive([echoRequest(to: Self.remote)], &stack, &device, &now).isEmpty)
    let requests = stack.takeRelayedEchoRequests()
    let request = try #require(requests.first)
    #expect(request.guest == .v6(Fixture.peer) && request.destination == .v6(Self.remote))
    #expect(request.hostDestination == .v6(Self.remote))
    #expect(request.identifier == 0x1234 && request.sequence == 7)
    #expect(request.payload == [0xDE, 0xAD, 0xBE, 0xEF])
    #expect(stack.relay?.counters.echoRequestsRelayed == 1)

    stack.sendRelayedEchoReply(
      from: .v6(Self.remote), to: .v6(Fixture.peer), identifier: 0x1234, sequence: 7,
      payload: [1, 2, 3].span, now: now)
    let replies = sent(&stack, &device, &now)
    try #require(replies.count == 1)
    let reply = replies[0]
    #expect(source(reply) == Self.remote && destination(reply) == Fixture.peer)
    let message = try ICMPv6Packet(
      checking: Array(reply[40...]).span, source: Self.remote, destination: Fixture.peer)
    #expect(message.type == .echoReply)
    #expect(message.header.identifier == 0x1234 && message.header.sequence == 7)
    #expect(message.body.copyToArray() == [1, 2, 3])
  }

  @Test func anEchoErrorTheHostLearntQuotesTheRequest() throws {
    var (stack, device, now) = try makeStack()
    stack.sendRelayedEchoError(
      .host, guest: .v6(Fixture.peer), destination: .v6(Self.remote), identifier: 0x1234,
      sequence: 7, now: now)
    let errors = sent(&stack, &device, &now)
    try #require(errors.count == 1)
    let error = errors[0]
    // Address unreachable; the quote: the request's IPv6 header, then its echo header.
    #expect(error[40] == 1 && error[41] == 3)
    let quote = Array(error[48...])
    #expect(IPv6Address(quote.span, at: 8) == Fixture.peer)
    #expect(IPv6Address(quote.span, at: 24) == Self.remote)
    #expect(quote[6] == 58 && quote[40] == 128)
    #expect(Array(quote[44..<48]) == [0x12, 0x34, 0, 7])
  }

  @Test func withoutPingSocketsEchoIsRefusedAndCounted() throws {
    var (stack, device, now) = try makeStack()
    stack.setRelayEchoAvailable(false)
    let sent = receive([echoRequest(to: Self.remote)], &stack, &device, &now)
    #expect(sent.count == 1 && sent.first?[40] == 1 && sent.first?[41] == 1)
    #expect(stack.relay?.counters.echoRefusedUnavailable == 1)
    let left = stack.takeRelayedEchoRequests()
    #expect(left.isEmpty)
  }

  // MARK: TCP

  @Test func aSynIsAPendingOpenAndTheAcceptedOneIsAnsweredFromTheDestination() throws {
    var (stack, device, now) = try makeStack()
    #expect(receive([syn(to: Self.remote)], &stack, &device, &now).isEmpty)
    let opens = stack.takeRelayedTCPOpens()
    try #require(opens.count == 1)
    #expect(opens[0].tuple.localAddress == .v6(Self.remote))
    #expect(opens[0].tuple.remoteAddress == .v6(Fixture.peer))
    #expect(stack.relay?.counters.tcpSegmentsRelayed == 1)
    let connection = stack.acceptRelayedTCPOpen(opens[0].id, now: now)
    #expect(connection != nil)
    let answers = sent(&stack, &device, &now)
    try #require(answers.count == 1)
    #expect(source(answers[0]) == Self.remote && destination(answers[0]) == Fixture.peer)
    let segment = try TCPSegment(checking: Array(answers[0][40...]).span)
    #expect(segment.flags == [.syn, .ack])
    #expect(segment.acknowledgmentNumber == SequenceNumber(1_000_001))
  }

  @Test func aRefusedOpenIsAReset() throws {
    var (stack, device, now) = try makeStack()
    _ = receive([syn(to: Self.remote)], &stack, &device, &now)
    let opens = stack.takeRelayedTCPOpens()
    let open = try #require(opens.first)
    stack.refuseRelayedTCPOpen(open.id, now: now)
    let answers = sent(&stack, &device, &now)
    try #require(answers.count == 1)
    #expect(source(answers[0]) == Self.remote)
    let segment = try TCPSegment(checking: Array(answers[0][40...]).span)
    #expect(segment.flags == [.rst, .ack])
  }

  @Test func anUnreachableOpenIsAnICMPv6ErrorQuotingTheSyn() throws {
    var (stack, device, now) = try makeStack()
    _ = receive([syn(to: Self.remote)], &stack, &device, &now)
    let opens = stack.takeRelayedTCPOpens()
    let open = try #require(opens.first)
    stack.rejectRelayedTCPOpen(open.id, code: .host, now: now)
    let errors = sent(&stack, &device, &now)
    try #require(errors.count == 1)
    let error = errors[0]
    #expect(error[40] == 1 && error[41] == 3)
    #expect(source(error) == Fixture.ours && destination(error) == Fixture.peer)
    let quote = Array(error[48...])
    #expect(IPv6Address(quote.span, at: 24) == Self.remote && quote[6] == 6)
    // Ports 40000 -> 80 and the SYN's sequence number.
    #expect(Array(quote[40..<48]) == [0x9C, 0x40, 0x00, 0x50, 0x00, 0x0F, 0x42, 0x40])
    #expect(stack.tcp.pendingOpens?.count == 0)
  }
}
