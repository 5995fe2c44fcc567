import IPv4
import IPv6
import NetCore
import UDP

extension DirectStack {
  /// Makes the stack the guests' gateway (relay mode): datagrams to other hosts come to
  /// `relayInput`, the DNS address (and the policy's host-loopback address)
  /// are answered for on the link, and the DNS address is taken as ours. The IPv6 DNS
  /// address, where IPv6 runs, becomes a service address of the IPv6 layer (through
  /// duplicate address detection, answered in neighbour discovery, never a source); if the
  /// layer refuses it, ``RelayGateway/dnsAddress6`` is nil afterwards.
  public mutating func startRelay(_ gateway: RelayGateway, now: Instant) {
    var gateway = gateway
    ipv4.relaysOtherDestinations = true
    tcp.startRelayingOpens(limit: DirectStack.relayPendingOpenLimit)
    ipv4.additionalAddresses = gateway.dnsAddress.map { [$0] } ?? []
    ipv4.link.additionalAddresses =
      ipv4.additionalAddresses + (gateway.policy.hostLoopback.map { [$0] } ?? [])
    if ipv6.isStarted {
      ipv6.relaysOtherDestinations = true
      if let address = gateway.dnsAddress6 {
        do { try ipv6.addServiceAddress(address, now: now) } catch {
          gateway = RelayGateway(
            policy: gateway.policy, dnsAddress: gateway.dnsAddress, dnsAddress6: nil)
        }
        moveIPv6Requests()
      }
    } else if gateway.dnsAddress6 != nil {
      gateway = RelayGateway(
        policy: gateway.policy, dnsAddress: gateway.dnsAddress, dnsAddress6: nil)
    }
    relay = gateway
  }

  /// Stops being the guests' IPv6 router (RFC 4861 §6.2.5, at shutdown): the final router
  /// advertisements (lifetime 0) wait in ``transmitQueue``.
  public mutating func ceaseRouterAdvertising(now: Instant) {
    guard ipv6.isStarted else { return }
    ipv6.ceaseAdvertising(now: now)
    moveIPv6Requests()
  }

  /// Answers guests' neighbour solicitations for the policy's IPv6 address of the host's
  /// loopback (``RelayDestinationPolicy/hostLoopbackIPv6``), which they resolve on the link
  /// when it lies in their prefix, as the IPv4 one is answered for by ARP. Call after
  /// ``startRelay(_:now:)``, with IPv6 started; false when there is nothing to answer for or the
  /// layer refused it.
  @discardableResult
  public mutating func answerForHostLoopbackIPv6(now: Instant) -> Bool {
    guard ipv6.isStarted, let address = relay?.policy.hostLoopbackIPv6 else { return false }
    return ipv6.answerNeighbourSolicitations(for: address, now: now)
  }

  /// Whether the relay's IPv6 DNS address failed duplicate address detection (RFC 4862
  /// §5.4.5, counted as `ndp.duplicate_addresses`): another node on the link, a guest,
  /// answers for it, so the stack never takes it and DNS over IPv6 is off.
  public var relayDNS6IsDuplicate: Bool {
    guard let address = relay?.dnsAddress6 else { return false }
    return ipv6.addressTable.entry(for: address)?.state == .duplicate
  }

  /// A datagram to another host (`IPv4Delivery.isRelayed`): refused with ICMP "communication
  /// administratively prohibited" if the policy says so, else an echo request or a UDP datagram
  /// is queued for the host side, TCP goes to the TCP layer as a relayed segment (see
  /// `DirectStack+TCPRelay.swift`); other protocols are not relayed.
  /// `checksumVerified` when the device vouched for the transport checksum (a guest's kernel
  /// that offloads it to the TAP leaves it unfinished).
  mutating func relayInput(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    // A published port's connection that took its client's address (DirectStack+ChosenSource).
    if deliverToOwnTCPConnection(
      delivery, packet: packet, checksumVerified: checksumVerified, now: now)
    {
      return
    }
    if deliverErrorToOwnTCPConnection(delivery, packet: packet) { return }
    // A published port's UDP flow that took its client's address (DirectStack+ChosenSourceUDP).
    if delivery.header.protocolNumber == .udp,
      deliverToChosenSourceUDP(
        source: .v4(delivery.header.source), destination: .v4(delivery.header.destination),
        transport: packet.extracting(droppingFirst: delivery.headerLength),
        checksumVerified: checksumVerified)
    {
      return
    }
    guard var gateway = relay else {
      ipv4.dropForOtherAddress()
      return
    }
    // Taken out while it changes, so that its queue is not copied.
    relay = nil
    defer { relay = gateway }
    let header = delivery.header
    let hostAddress: IPAddress
    switch gateway.policy.decision(for: header.destination) {
    case .refuse(let why):
      gateway.counters.countRefusal(why)
      ipv4.sendDestinationUnreachable(
        .administrativelyProhibited, about: packet, linkBroadcast: delivery.linkBroadcast,
        now: now)
      return
    case .relay(let address):
      hostAddress = address
    }
    if header.protocolNumber == .udp {
      relayUDP(
        delivery, packet: packet, checksumVerified: checksumVerified, hostAddress: hostAddress,
        gateway: &gateway)
      return
    }
    if header.protocolNumber == .tcp {
      gateway.counters.tcpSegmentsRelayed += 1
      relayTCP(delivery, packet: packet, checksumVerified: checksumVerified, now: now)
      return
    }
    guard header.protocolNumber == .icmp else {
      gateway.counters.droppedUnsupportedProtocol += 1
      return
    }
    let message: ICMPv4Packet
    do {
      message = try ICMPv4Packet(checking: packet.extracting(droppingFirst: delivery.headerLength))
    } catch {
      gateway.counters.icmpDropped += 1
      return
    }
    guard message.type == .echoRequest else {
      gateway.counters.icmpDropped += 1
      return
    }
    guard gateway.echoAvailable else {
      gateway.counters.echoRefusedUnavailable += 1
      ipv4.sendDestinationUnreachable(
        .administrativelyProhibited, about: packet, linkBroadcast: delivery.linkBroadcast,
        now: now)
      return
    }
    let request = RelayedEchoRequest(
      guest: .v4(header.source), destination: .v4(header.destination),
      hostDestination: hostAddress,
      identifier: message.header.identifier, sequence: message.header.sequence,
      payload: message.payload.copyToArray(), packet: packet.copyToArray())
    gateway.queueEchoRequest(request)
  }

  /// Queues a guest's UDP datagram for the host side, unless it is malformed or the queue is
  /// full (counted).
  private func relayUDP(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool,
    hostAddress: IPAddress, gateway: inout RelayGateway
  ) {
    let header = delivery.header
    let datagram: UDPDatagram
    do {
      datagram = try UDPDatagram(checking: packet.extracting(droppingFirst: delivery.headerLength))
    } catch {
      gateway.counters.udpDroppedMalformed += 1
      return
    }
    guard datagram.destinationPort != 0, datagram.sourcePort != 0,
      checksumVerified
        || datagram.checksumIsValid(
          source: .v4(header.source), destination: .v4(header.destination))
    else {
      gateway.counters.udpDroppedMalformed += 1
      return
    }
    gateway.queueUDPDatagram(
      on: UDPFlowKey(
        guest: .v4(header.source), guestPort: datagram.sourcePort,
        destination: .v4(header.destination), destinationPort: datagram.destinationPort),
      hostDestination: hostAddress, payload: datagram.payload)
  }

  /// Takes the UDP datagrams waiting for the host side.
  public mutating func takeRelayedUDPDatagrams() -> [RelayedUDPDatagram] {
    guard relay != nil, !relay!.udpDatagrams.isEmpty else { return [] }
    var taken: [RelayedUDPDatagram] = []
    while let datagram = relay!.udpDatagrams.popFirst() { taken.append(datagram) }
    relay!.udpQueuedBytes = 0
    return taken
  }

  /// Sends the guest of `flow` a datagram the host received on the flow's socket, from the
  /// address and port the guest sent to, over the flow's family. Returns false when it could
  /// not be sent (too long, no route).
  @discardableResult
  public mutating func sendRelayedUDPReply(
    on flow: UDPFlowKey, payload: Span<UInt8>, now: Instant
  ) -> Bool {
    guard payload.count <= UDPHeader.maximumPayload else { return false }
    let packet = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + UDPHeader.length + payload.count)
    packet.append(copying: payload)
    UDPHeader(sourcePort: flow.destinationPort, destinationPort: flow.guestPort)
      .prepend(to: packet, source: flow.destination, destination: flow.guest)
    switch (flow.guest, flow.destination) {
    case (.v4(let guest), .v4(let destination)):
      do {
        try ipv4.send(
          packet, protocolNumber: .udp, to: guest,
          options: IPv4SendOptions(source: destination), now: now)
      } catch {
        return false
      }
    case (.v6(let guest), .v6(let destination)):
      do {
        try ipv6.send(
          packet, nextHeader: .udp, to: guest, options: IPv6SendOptions(source: destination),
          now: now)
      } catch {
        return false
      }
    default:
      return false
    }
    relay?.counters.udpRepliesSent += 1
    return true
  }

  /// Answers the guest of `flow` with ICMP destination unreachable (`reason`: port unreachable
  /// when the destination refused, RFC 1122 §3.2.2.1, RFC 4443 §3.1), quoting the IP and UDP
  /// headers of a datagram of the flow.
  public mutating func refuseRelayedUDP(
    _ flow: UDPFlowKey, code reason: RelayUnreachable, now: Instant
  ) {
    let quote = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + UDPHeader.length)
    UDPHeader(sourcePort: flow.guestPort, destinationPort: flow.destinationPort)
      .prepend(to: quote, source: flow.guest, destination: flow.destination)
    sendRelayedUnreachable(
      reason, quoting: quote, protocolNumber: .udp, guest: flow.guest,
      destination: flow.destination, now: now)
  }

  /// Sends the guest ICMP (or ICMPv6) destination unreachable for `reason` about a datagram
  /// from `guest` to `destination` whose transport header `quote` holds: the IP header is put
  /// in front of it here, as the guest sent it.
  mutating func sendRelayedUnreachable(
    _ reason: RelayUnreachable, quoting quote: PacketBuffer, protocolNumber: IPProtocolNumber,
    guest: IPAddress, destination: IPAddress, now: Instant
  ) {
    let length = quote.count
    switch (guest, destination) {
    case (.v4(let guest), .v4(let destination)):
      IPv4Header(
        source: guest, destination: destination, protocolNumber: protocolNumber,
        payloadLength: length
      ).prepend(to: quote)
      quote.withBytes {
        ipv4.sendDestinationUnreachable(
          reason.ipv4Code, about: $0, linkBroadcast: false, now: now)
      }
    case (.v6(let guest), .v6(let destination)):
      IPv6Header(
        source: guest, destination: destination,
        nextHeader: IPv6NextHeader(rawValue: protocolNumber.rawValue), payloadLength: length
      ).prepend(to: quote)
      quote.withBytes {
        ipv6.sendDestinationUnreachable(
          reason.ipv6Code, about: $0, linkMulticast: false, now: now)
      }
    default:
      break
    }
  }

  /// Takes the echo requests waiting for the host side.
  public mutating func takeRelayedEchoRequests() -> [RelayedEchoRequest] {
    guard relay != nil, !relay!.echoRequests.isEmpty else { return [] }
    var taken: [RelayedEchoRequest] = []
    while let request = relay!.echoRequests.popFirst() { taken.append(request) }
    return taken
  }

  /// Sends `guest` the echo reply the host got from the address it pinged, as if it came
  /// from `destination` (the address the guest pinged) with the guest's own identifier, over
  /// their family (ICMP or ICMPv6).
  public mutating func sendRelayedEchoReply(
    from destination: IPAddress, to guest: IPAddress, identifier: UInt16, sequence: UInt16,
    payload: Span<UInt8>, now: Instant
  ) {
    switch (destination, guest) {
    case (.v4(let destination), .v4(let guest)):
      try? ipv4.sendRelayedEchoReply(
        from: destination, to: guest, identifier: identifier, sequence: sequence,
        payload: payload, now: now)
    case (.v6(let destination), .v6(let guest)):
      try? ipv6.sendRelayedEchoReply(
        from: destination, to: guest, identifier: identifier, sequence: sequence,
        payload: payload, now: now)
    default:
      break
    }
  }

  /// Answers `request` with destination unreachable (`reason`): the host could not send it.
  public mutating func refuseRelayedEcho(
    _ request: RelayedEchoRequest, code reason: RelayUnreachable, now: Instant
  ) {
    if request.guest.isIPv4 {
      ipv4.sendDestinationUnreachable(
        reason.ipv4Code, about: request.packet.span, linkBroadcast: false, now: now)
    } else {
      ipv6.sendDestinationUnreachable(
        reason.ipv6Code, about: request.packet.span, linkMulticast: false, now: now)
    }
  }

  /// Tells the stack whether the host allows ICMP sockets (see ``RelayGateway/echoAvailable``).
  public mutating func setRelayEchoAvailable(_ available: Bool) {
    relay?.echoAvailable = available
  }
}
