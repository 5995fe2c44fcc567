import IPv4
import NetCore

extension DirectStack {
  /// Makes the stack the guests' gateway (relay mode): datagrams to other hosts come to
  /// ``relayInput(_:packet:now:)``, the DNS address (and the policy's host-loopback address)
  /// are answered for on the link, and the DNS address is taken as ours.
  public mutating func startRelay(_ gateway: RelayGateway) {
    relay = gateway
    ipv4.relaysOtherDestinations = true
    ipv4.additionalAddresses = gateway.dnsAddress.map { [$0] } ?? []
    ipv4.link.additionalAddresses =
      ipv4.additionalAddresses + (gateway.policy.hostLoopback.map { [$0] } ?? [])
  }

  /// A datagram to another host (``IPv4Delivery/isRelayed``): refused with ICMP "communication
  /// administratively prohibited" if the policy says so, else an echo request is queued for
  /// the host side; other protocols are not relayed yet.
  mutating func relayInput(_ delivery: IPv4Delivery, packet: Span<UInt8>, now: Instant) {
    guard var gateway = relay else {
      ipv4.dropForOtherAddress()
      return
    }
    // Taken out while it changes, so that its queue is not copied.
    relay = nil
    defer { relay = gateway }
    let header = delivery.header
    let hostAddress: IPv4Address
    switch gateway.policy.decision(for: header.destination) {
    case .refuse(let why):
      switch why {
      case .reserved: gateway.counters.refusedReserved += 1
      case .guestSubnet: gateway.counters.refusedGuestSubnet += 1
      case .denied: gateway.counters.refusedDenied += 1
      }
      ipv4.sendDestinationUnreachable(
        .administrativelyProhibited, about: packet, linkBroadcast: delivery.linkBroadcast,
        now: now)
      return
    case .relay(let address):
      hostAddress = address
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
      guest: header.source, destination: header.destination, hostDestination: hostAddress,
      identifier: message.header.identifier, sequence: message.header.sequence,
      payload: message.payload.copyToArray(), packet: packet.copyToArray())
    if gateway.echoRequests.append(request) {
      gateway.counters.echoRequestsRelayed += 1
    } else {
      gateway.counters.echoDroppedQueueFull += 1
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
  /// from `destination` (the address the guest pinged) with the guest's own identifier.
  public mutating func sendRelayedEchoReply(
    from destination: IPv4Address, to guest: IPv4Address, identifier: UInt16, sequence: UInt16,
    payload: Span<UInt8>, now: Instant
  ) {
    try? ipv4.sendRelayedEchoReply(
      from: destination, to: guest, identifier: identifier, sequence: sequence, payload: payload,
      now: now)
  }

  /// Answers `request` with ICMP destination unreachable (`code`): the host could not send it.
  public mutating func refuseRelayedEcho(
    _ request: RelayedEchoRequest, code: ICMPv4UnreachableCode, now: Instant
  ) {
    ipv4.sendDestinationUnreachable(
      code, about: request.packet.span, linkBroadcast: false, now: now)
  }

  /// Tells the stack whether the host allows ICMP sockets (see ``RelayGateway/echoAvailable``).
  public mutating func setRelayEchoAvailable(_ available: Bool) {
    relay?.echoAvailable = available
  }
}
