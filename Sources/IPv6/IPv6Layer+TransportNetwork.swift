import NetCore

/// The IPv6 layer as TCP's and UDP's network (RFC 8200 §8: upper-layer protocols): source
/// selection (RFC 6724, simplified), the path MTU towards a destination (RFC 8201; never
/// below 1280), and sending with the transport's protocol number as the next header. An IPv4
/// destination has no route here.
extension IPv6Layer: TransportNetwork {
  public func sourceAddress(for destination: IPAddress) -> IPAddress? {
    guard case .v6(let destination) = destination else { return nil }
    return sourceAddress(for: destination).map(IPAddress.v6)
  }

  /// The path MTU towards an IPv6 destination less the fixed header (1240 at least); for an
  /// IPv4 one, which this layer cannot reach, the minimum.
  public func maximumPayloadSize(to destination: IPAddress) -> Int {
    guard case .v6(let destination) = destination else {
      return IPv6Header.minimumMTU - IPv6Header.length
    }
    return maximumPayloadSize(to: destination)
  }

  public mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError) {
    guard case .v6(let destination) = destination else {
      counters.sendNoRoute += 1
      throw .noRoute
    }
    let source: IPv6Address?
    switch options.source {
    case nil: source = nil
    case .v6(let given): source = given
    case .v4:
      counters.sendNoSourceAddress += 1
      throw .noSourceAddress
    }
    do {
      try send(
        payload, nextHeader: IPv6NextHeader(rawValue: protocolNumber.rawValue), to: destination,
        options: IPv6SendOptions(
          source: source, dontFragment: options.dontFragment,
          trafficClass: options.trafficClass, hopLimit: options.hopLimit),
        now: now)
    } catch {
      switch error {
      case .noRoute: throw .noRoute
      case .noSourceAddress: throw .noSourceAddress
      case .tooLarge: throw .tooLarge
      }
    }
  }
}

extension TransportDelivery {
  /// What a transport takes of a packet ``IPv6Layer/receive(_:linkMulticast:now:)`` delivered
  /// (`.local` or `.reassembled`); `checksumVerified` when the device vouched for the transport
  /// checksum. IPv6 has no broadcast; what it delivers for another address is relayed.
  public init(_ delivery: IPv6Delivery, checksumVerified: Bool) {
    self.init(
      source: .v6(delivery.source), destination: .v6(delivery.destination),
      checksumVerified: checksumVerified, linkBroadcast: delivery.linkMulticast,
      isRelayed: delivery.isRelayed)
  }
}
