/// An address of either IP family: what a transport (TCP, UDP) names its ends with, so that one
/// implementation runs over IPv4 (RFC 791) and IPv6 (RFC 8200).
///
/// Text form: dotted quad for IPv4, RFC 5952 for IPv6 (``description``). An IPv4 address and
/// its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) are different values: the family a packet
/// came in is part of the connection it belongs to.
public enum IPAddress: Hashable, Sendable {
  case v4(IPv4Address)
  case v6(IPv6Address)

  /// The IPv4 address, if it is one.
  public var ipv4: IPv4Address? {
    if case .v4(let address) = self { return address }
    return nil
  }

  /// The IPv6 address, if it is one.
  public var ipv6: IPv6Address? {
    if case .v6(let address) = self { return address }
    return nil
  }

  /// Whether it is an IPv4 address.
  public var isIPv4: Bool { ipv4 != nil }

  /// "No address": 0.0.0.0 or `::`.
  public var isUnspecified: Bool {
    switch self {
    case .v4(let address): address.isUnspecified
    case .v6(let address): address.isUnspecified
    }
  }

  /// Whether it names one host: IPv4 neither unspecified, multicast nor reserved (so not the
  /// limited broadcast); IPv6 neither unspecified, loopback nor multicast.
  public var isUnicast: Bool {
    switch self {
    case .v4(let address): address.isUnicast
    case .v6(let address): address.isUnicast
    }
  }

  /// Whether it is a multicast group (224.0.0.0/4, ff00::/8).
  public var isMulticast: Bool {
    switch self {
    case .v4(let address): address.isMulticast
    case .v6(let address): address.isMulticast
    }
  }

  /// The limited broadcast 255.255.255.255 (IPv6 has no broadcast).
  public var isLimitedBroadcast: Bool { ipv4?.isBroadcast == true }
}

extension IPAddress: CustomStringConvertible {
  /// `a.b.c.d`, or the RFC 5952 text of an IPv6 address.
  public var description: String {
    switch self {
    case .v4(let address): address.description
    case .v6(let address): address.description
    }
  }
}
