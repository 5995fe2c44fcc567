import NetCore
import UDP

/// UDP endpoints that send from a chosen address and port (``ChosenSourceUDPTable``): a
/// published port's flow into the guest showing it the client's address and port, or the
/// `--host-loopback` address for a client on the host's loopback, as TCP's chosen-source
/// connections do (`DirectStack+ChosenSource.swift`). The guest answers that address through
/// its gateway (relay mode): the answer comes in as relayed, and is the endpoint's when its
/// four numbers name it, before the relay would take it for a new flow of the guest's.
extension DirectStack {
  /// Binds an endpoint (an ephemeral port of its own, never sent from) whose datagrams to
  /// `peer`:`peerPort` leave from `source`:`sourcePort` (0: the endpoint's own port), and
  /// which receives the peer's datagrams to that address and port, and nothing else: not
  /// what is sent to its port at an address of ours (`UDPEndpoint.takesFlowOnly`, counted
  /// as `udp.dropped_outside_flow` and answered as a closed port), nor what comes from elsewhere. `addressInUse` when
  /// another endpoint has the same four numbers; `noRoute` when the families differ or an
  /// address is not unicast.
  public mutating func bindUDP(
    from source: IPAddress, sourcePort: UInt16, peer: IPAddress, peerPort: UInt16
  ) throws(UDPError) -> UDPEndpointID {
    guard source.isUnicast, peer.isUnicast, source.isIPv4 == peer.isIPv4, peerPort != 0 else {
      throw .noRoute
    }
    let id = try udp.bind(port: 0, takesFlowOnly: true)
    guard let endpoint = udp.endpoint(id) else { throw .invalidEndpoint }
    let flow = UDPFlowKey(
      guest: peer, guestPort: peerPort, destination: source,
      destinationPort: sourcePort != 0 ? sourcePort : endpoint.localPort)
    guard chosenSourceUDP.insert(flow, for: id) else {
      udp.close(id)
      throw .addressInUse
    }
    return id
  }

  /// Closes a UDP endpoint, and forgets its chosen source if it has one.
  public mutating func closeUDP(_ id: UDPEndpointID) {
    chosenSourceUDP.remove(id)
    udp.close(id)
  }

  /// The address and port endpoint `id` sends from when it has a chosen source.
  public func chosenUDPSource(of id: UDPEndpointID) -> (address: IPAddress, port: UInt16)? {
    chosenSourceUDP.flow(of: id).map { ($0.destination, $0.destinationPort) }
  }

  /// Sends `payload` from endpoint `id`'s chosen source to its peer (only there: the guest's
  /// answers are taken by those four numbers).
  public mutating func sendUDPFromChosenSource(
    _ payload: Span<UInt8>, from id: UDPEndpointID, now: Instant
  ) throws(UDPError) {
    guard let flow = chosenSourceUDP.flow(of: id) else { throw .invalidEndpoint }
    try udp.send(
      payload, from: id, source: flow.destination, sourcePort: flow.destinationPort,
      to: flow.guest, port: flow.guestPort, through: &network, now: now)
  }

  /// Hands a relayed UDP datagram (`transport`: its UDP header and payload) to the endpoint
  /// whose chosen source it is addressed to. Returns whether one took it (queued or dropped,
  /// counted by the UDP layer).
  mutating func deliverToChosenSourceUDP(
    source: IPAddress, destination: IPAddress, transport: Span<UInt8>, checksumVerified: Bool
  ) -> Bool {
    guard chosenSourceUDP.count > 0, transport.count >= UDPHeader.length else { return false }
    let flow = UDPFlowKey(
      guest: source, guestPort: UInt16(transport[0]) << 8 | UInt16(transport[1]),
      destination: destination, destinationPort: UInt16(transport[2]) << 8 | UInt16(transport[3]))
    guard let id = chosenSourceUDP.endpoint(for: flow) else { return false }
    let delivery = TransportDelivery(
      source: source, destination: destination, checksumVerified: checksumVerified)
    if case .delivered(let endpoint) = udp.input(delivery, datagram: transport, to: id),
      !readableUDPEndpoints.contains(endpoint)
    {
      readableUDPEndpoints.append(endpoint)
    }
    return true
  }
}
