/// A packet for a transport, as either network layer delivers it (RFC 1122 §3.4, RFC 8200
/// §8): the addresses and what the layers below learnt about it. The transport's bytes (its header and payload) travel beside
/// it, as a span of the received frame or of a reassembled packet.
///
/// `IPv4Delivery` and IPv6's `IPv6Delivery` convert to it, so that TCP and UDP take one kind
/// of input (ARCHITECTURE principle 11).
public struct TransportDelivery: Sendable {
  /// The packet's source address (the remote end).
  public var source: IPAddress
  /// The packet's destination address (ours, a group, or a broadcast address).
  public var destination: IPAddress
  /// Whether the device vouched for the transport checksum (checksum offload), so the
  /// transport need not verify it.
  public var checksumVerified: Bool
  /// Whether it came in a link-layer broadcast or multicast frame (never answered with an ICMP
  /// error: RFC 1122 §3.2.2, RFC 4443 §2.4 e).
  public var linkBroadcast: Bool
  /// Whether the destination is a broadcast address of the network: IPv4's limited broadcast
  /// or the interface's directed broadcast (IPv6 has none). TCP drops these (RFC 1122
  /// §4.2.3.10).
  public var isBroadcast: Bool
  /// Whether it is addressed to a unicast address that is not ours, delivered only while an
  /// IPv4 interface has no address (DHCP's offers). A transport hands it only to an endpoint
  /// that asked for it, and never answers it (no RST, no ICMP error).
  public var isForOtherAddress: Bool
  /// Whether it is addressed to another host and was taken by a relay (relay mode): TCP
  /// treats a SYN as an open to be relayed (a pending open) instead of a closed port.
  public var isRelayed: Bool

  public init(
    source: IPAddress, destination: IPAddress, checksumVerified: Bool = false,
    linkBroadcast: Bool = false, isBroadcast: Bool = false, isForOtherAddress: Bool = false,
    isRelayed: Bool = false
  ) {
    self.isRelayed = isRelayed
    self.source = source
    self.destination = destination
    self.checksumVerified = checksumVerified
    self.linkBroadcast = linkBroadcast
    self.isBroadcast = isBroadcast
    self.isForOtherAddress = isForOtherAddress
  }
}
