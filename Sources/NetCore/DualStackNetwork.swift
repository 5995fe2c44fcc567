/// An IPv4 network layer and an IPv6 one as one ``TransportNetwork``: each call goes to the
/// layer of the destination's family (RFC 791 or RFC 8200), so that one TCP and one UDP serve
/// both (a dual-stack host, RFC 4213 §2).
///
/// Holds both layers by value; a stack reaches them as ``ipv4`` and ``ipv6`` for their own
/// work (receiving, ICMP, timers) and passes the pair to the transports.
public struct DualStackNetwork<V4: TransportNetwork, V6: TransportNetwork>: TransportNetwork {
  /// The IPv4 layer (`IPv4Layer` in a stack).
  public var ipv4: V4
  /// The IPv6 layer (`IPv6Layer` in a stack).
  public var ipv6: V6

  public init(ipv4: V4, ipv6: V6) {
    self.ipv4 = ipv4
    self.ipv6 = ipv6
  }

  /// Only when both layers' links can: a transport decides before it knows where a segment
  /// goes.
  public var supportsSegmentationOffload: Bool {
    ipv4.supportsSegmentationOffload && ipv6.supportsSegmentationOffload
  }

  /// The larger of the two, so that a buffer fits either family's headers.
  public var headroom: Int { max(ipv4.headroom, ipv6.headroom) }

  public func sourceAddress(for destination: IPAddress) -> IPAddress? {
    switch destination {
    case .v4: ipv4.sourceAddress(for: destination)
    case .v6: ipv6.sourceAddress(for: destination)
    }
  }

  public func maximumPayloadSize(to destination: IPAddress) -> Int {
    switch destination {
    case .v4: ipv4.maximumPayloadSize(to: destination)
    case .v6: ipv6.maximumPayloadSize(to: destination)
    }
  }

  /// From the IPv4 layer's link: both layers run over the same link in a dual-stack
  /// interface, so either pool serves.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    ipv4.makePacketBuffer(capacity: capacity, headroom: headroom)
  }

  public mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError) {
    switch destination {
    case .v4:
      try ipv4.send(
        payload, protocolNumber: protocolNumber, to: destination, options: options, now: now)
    case .v6:
      try ipv6.send(
        payload, protocolNumber: protocolNumber, to: destination, options: options, now: now)
    }
  }
}
