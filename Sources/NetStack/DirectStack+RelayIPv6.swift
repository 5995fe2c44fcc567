import IPv6
import NetCore
import TCP
import UDP

/// The relay over IPv6 (RFC 8200 §3: what the guests' gateway receives for other hosts): the
/// same decisions as over IPv4 (``RelayDestinationPolicy``), answered in ICMPv6 (RFC 4443
/// §3.1): a refused destination gets destination unreachable code 1 (administratively
/// prohibited), a link-local source code 2 (beyond scope of source address); TCP goes to the
/// TCP layer's pending opens, UDP and echo requests to the host side's queues, as for IPv4.
extension DirectStack {
  /// A packet to another host (`IPv6Delivery.isRelayed`); see the extension's summary.
  /// `checksumVerified` when the device vouched for the transport checksum.
  mutating func relayInput(
    _ delivery: IPv6Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    let transport = packet.extracting(
      delivery.payloadOffset..<(delivery.payloadOffset + delivery.payloadLength))
    // A published port's connection that took its client's address (DirectStack+ChosenSource).
    if delivery.nextHeader == .tcp,
      deliverToOwnTCPConnection(
        delivery, segment: transport, checksumVerified: checksumVerified, now: now)
    {
      return
    }
    // A published port's UDP flow that took its client's address (DirectStack+ChosenSourceUDP).
    if delivery.nextHeader == .udp,
      deliverToChosenSourceUDP(
        source: .v6(delivery.source), destination: .v6(delivery.destination),
        transport: transport, checksumVerified: checksumVerified)
    {
      return
    }
    // The layer relays only once startRelay has made the stack a gateway.
    guard var gateway = relay else { return }
    // Taken out while it changes, so that its queues are not copied.
    relay = nil
    defer { relay = gateway }
    if delivery.source.isLinkLocal {
      // RFC 4291 §2.5.6: a link-local source is never forwarded off the link.
      gateway.counters.refusedLinkLocalSource += 1
      ipv6.sendDestinationUnreachable(
        .beyondScopeOfSource, about: packet, linkMulticast: delivery.linkMulticast, now: now)
      return
    }
    let hostAddress: IPAddress
    switch gateway.policy.decision(for: delivery.destination) {
    case .refuse(let why):
      gateway.counters.countRefusal(why)
      ipv6.sendDestinationUnreachable(
        .administrativelyProhibited, about: packet, linkMulticast: delivery.linkMulticast,
        now: now)
      return
    case .relay(let address):
      hostAddress = address
    }
    switch delivery.nextHeader {
    case .udp:
      relayUDP(
        delivery, datagram: transport, checksumVerified: checksumVerified,
        hostAddress: hostAddress, gateway: &gateway)
    case .tcp:
      gateway.counters.tcpSegmentsRelayed += 1
      tcp.input(
        TransportDelivery(delivery, checksumVerified: checksumVerified), segment: transport,
        now: now, network: &network)
    case .icmpv6:
      relayEchoRequest(
        delivery, packet: packet, message: transport, hostAddress: hostAddress,
        gateway: &gateway, now: now)
    default:
      gateway.counters.droppedUnsupportedProtocol += 1
    }
  }

  /// Queues a guest's ICMPv6 echo request for the host side, or refuses it (administratively
  /// prohibited) where the host allows no ICMP sockets; other ICMPv6 is dropped (counted).
  private mutating func relayEchoRequest(
    _ delivery: IPv6Delivery, packet: Span<UInt8>, message bytes: Span<UInt8>,
    hostAddress: IPAddress, gateway: inout RelayGateway, now: Instant
  ) {
    let message: ICMPv6Packet
    do {
      message = try ICMPv6Packet(
        checking: bytes, source: delivery.source, destination: delivery.destination)
    } catch {
      gateway.counters.icmpDropped += 1
      return
    }
    guard message.type == .echoRequest, message.code == 0 else {
      gateway.counters.icmpDropped += 1
      return
    }
    guard gateway.echoAvailable else {
      gateway.counters.echoRefusedUnavailable += 1
      ipv6.sendDestinationUnreachable(
        .administrativelyProhibited, about: packet, linkMulticast: delivery.linkMulticast,
        now: now)
      return
    }
    let header = message.header
    let request = RelayedEchoRequest(
      guest: .v6(delivery.source), destination: .v6(delivery.destination),
      hostDestination: hostAddress, identifier: header.identifier, sequence: header.sequence,
      payload: message.body.copyToArray(), packet: packet.copyToArray())
    gateway.queueEchoRequest(request)
  }

  /// Queues a guest's UDP datagram for the host side, unless it is malformed (a zero checksum
  /// included, RFC 8200 §8.1) or the queue is full (counted).
  private func relayUDP(
    _ delivery: IPv6Delivery, datagram bytes: Span<UInt8>, checksumVerified: Bool,
    hostAddress: IPAddress, gateway: inout RelayGateway
  ) {
    let source = IPAddress.v6(delivery.source)
    let destination = IPAddress.v6(delivery.destination)
    let datagram: UDPDatagram
    do {
      datagram = try UDPDatagram(checking: bytes)
    } catch {
      gateway.counters.udpDroppedMalformed += 1
      return
    }
    guard datagram.destinationPort != 0, datagram.sourcePort != 0,
      checksumVerified || datagram.checksumIsValid(source: source, destination: destination)
    else {
      gateway.counters.udpDroppedMalformed += 1
      return
    }
    gateway.queueUDPDatagram(
      on: UDPFlowKey(
        guest: source, guestPort: datagram.sourcePort, destination: destination,
        destinationPort: datagram.destinationPort),
      hostDestination: hostAddress, payload: datagram.payload)
  }

  /// Hands a relayed TCP segment to the layer as its own when it belongs to one of its
  /// connections: the guest's answers to a published port's client whose address the stack's
  /// connection took. Returns whether it did.
  private mutating func deliverToOwnTCPConnection(
    _ delivery: IPv6Delivery, segment: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) -> Bool {
    guard segment.count >= 4 else { return false }
    let sourcePort = UInt16(segment[0]) << 8 | UInt16(segment[1])
    let destinationPort = UInt16(segment[2]) << 8 | UInt16(segment[3])
    let tuple = TCPFourTuple(
      localAddress: .v6(delivery.destination), localPort: destinationPort,
      remoteAddress: .v6(delivery.source), remotePort: sourcePort)
    guard tcp.hasConnection(tuple) else { return false }
    var own = TransportDelivery(delivery, checksumVerified: checksumVerified)
    own.isRelayed = false
    tcp.input(own, segment: segment, now: now, network: &network)
    return true
  }
}
