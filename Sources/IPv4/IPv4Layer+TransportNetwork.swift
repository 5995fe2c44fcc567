import NetCore

/// The IPv4 layer as TCP's and UDP's network (RFC 791; RFC 1122 §3.4, the interface between
/// IP and the transports): IPv4 destinations go through the layer's own routing and sending,
/// an IPv6 destination has no route here.
extension IPv4Layer: TransportNetwork {
  public func sourceAddress(for destination: IPAddress) -> IPAddress? {
    guard case .v4(let destination) = destination else { return nil }
    return sourceAddress(for: destination).map(IPAddress.v4)
  }

  /// The link MTU less the IPv4 header, to any destination (no path MTU discovery for IPv4).
  public func maximumPayloadSize(to destination: IPAddress) -> Int { maximumPayloadSize }

  public mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError) {
    guard case .v4(let destination) = destination else {
      counters.sendNoRoute += 1
      throw .noRoute
    }
    let source: IPv4Address?
    switch options.source {
    case nil: source = nil
    case .v4(let given): source = given
    case .v6:
      // An IPv6 source for an IPv4 destination: a transport's mistake, counted as unroutable.
      counters.sendNoRoute += 1
      throw .noSourceAddress
    }
    do {
      try send(
        payload, protocolNumber: protocolNumber, to: destination,
        options: IPv4SendOptions(
          source: source, dontFragment: options.dontFragment,
          typeOfService: options.trafficClass, timeToLive: options.hopLimit),
        now: now)
    } catch {
      switch error {
      case .noRoute: throw .noRoute
      case .tooLarge: throw .tooLarge
      }
    }
  }
}

extension TransportDelivery {
  /// What a transport takes of a datagram ``IPv4Layer/receive(_:linkBroadcast:now:)``
  /// delivered; `checksumVerified` when the device vouched for the transport checksum.
  public init(_ delivery: IPv4Delivery, checksumVerified: Bool) {
    self.init(
      source: .v4(delivery.header.source), destination: .v4(delivery.header.destination),
      checksumVerified: checksumVerified, linkBroadcast: delivery.linkBroadcast,
      isBroadcast: delivery.isBroadcast, isForOtherAddress: delivery.isForOtherAddress)
  }
}
