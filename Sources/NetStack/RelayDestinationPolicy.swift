import NetCore

/// Which destinations a guest may reach through the relay, and where each goes on the host
/// (as slirp4netns's `--disable-host-loopback` and `--cidr` rules; RFC 1812 §5.3.7 for the
/// addresses a router never forwards to).
///
/// Refused always: this-network 0.0.0.0/8, the host's loopback 127.0.0.0/8, link-local
/// 169.254.0.0/16, multicast, class E and broadcast, and the guests' own subnet (its hosts are
/// on the link, never behind the gateway). Refused on request: the ranges of `--deny`. The one
/// way to the host's loopback is ``hostLoopback``, an address that the relay maps to 127.0.0.1.
///
/// Over IPv6 the same, by RFC 4291 §2.4's address types: refused always the unspecified
/// address, the host's loopback ::1, link-local fe80::/10, multicast, IPv4-mapped
/// ::ffff:0:0/96, and the guests' own prefixes (``guestPrefixes``); refused on request the
/// IPv6 ranges of `--deny`. The one way to the host's ::1 is ``hostLoopbackIPv6``.
public struct RelayDestinationPolicy: Sendable, Equatable {
  /// Why a destination is refused.
  public enum Refusal: Sendable, Equatable {
    /// The host's loopback or another address no router forwards to.
    case reserved
    /// Inside the guests' own subnet.
    case guestSubnet
    /// Inside a `--deny` range.
    case denied
  }

  /// What the relay does with a destination.
  public enum Decision: Sendable, Equatable {
    /// Re-originate it from the host to `hostAddress` (the destination itself, or 127.0.0.1
    /// for ``RelayDestinationPolicy/hostLoopback``, ::1 for
    /// ``RelayDestinationPolicy/hostLoopbackIPv6``).
    case relay(hostAddress: IPAddress)
    case refuse(Refusal)
  }

  /// The most `--deny` ranges, IPv4 and IPv6 together.
  public static let maximumDeniedRanges = 64

  /// The guests' subnet (the stack's address and prefix).
  public var guestSubnet: IPv4CIDR
  /// Ranges the guest may not reach.
  public private(set) var denied: [IPv4CIDR] = []
  /// IPv6 ranges the guest may not reach.
  public private(set) var deniedIPv6: [IPv6CIDR] = []
  /// The guests' IPv6 prefixes (the stack's on-link ones): their hosts are on the link.
  public var guestPrefixes: [IPv6CIDR] = []
  /// The address the guest uses for the host's 127.0.0.1, if any.
  public var hostLoopback: IPv4Address?
  /// The address the guest uses for the host's ::1, if any (it may lie in a guest prefix).
  public var hostLoopbackIPv6: IPv6Address?

  /// A policy for guests in `guestSubnet` with nothing denied and no way to the host's loopback.
  public init(guestSubnet: IPv4CIDR) {
    self.guestSubnet = guestSubnet
  }

  /// Adds a denied range; false when ``maximumDeniedRanges`` are already there.
  public mutating func deny(_ range: IPv4CIDR) -> Bool {
    guard deniedCount < RelayDestinationPolicy.maximumDeniedRanges else { return false }
    denied.append(range.network)
    return true
  }

  /// Adds a denied IPv6 range; false when ``maximumDeniedRanges`` are already there.
  public mutating func deny(_ range: IPv6CIDR) -> Bool {
    guard deniedCount < RelayDestinationPolicy.maximumDeniedRanges else { return false }
    deniedIPv6.append(range.network)
    return true
  }

  /// Denied ranges of both families.
  public var deniedCount: Int { denied.count + deniedIPv6.count }

  /// What to do with a datagram to `destination`, of either family.
  public func decision(for destination: IPAddress) -> Decision {
    switch destination {
    case .v4(let address): decision(for: address)
    case .v6(let address): decision(for: address)
    }
  }

  /// What to do with a packet to the IPv6 `destination`. `--deny` comes first, as for IPv4.
  public func decision(for destination: IPv6Address) -> Decision {
    if deniedIPv6.contains(where: { $0.contains(destination) }) { return .refuse(.denied) }
    if destination == hostLoopbackIPv6 { return .relay(hostAddress: .v6(.loopback)) }
    if !destination.isUnicast || destination.isLinkLocal || destination.isIPv4Mapped {
      return .refuse(.reserved)
    }
    if guestPrefixes.contains(where: { $0.prefixLength > 0 && $0.contains(destination) }) {
      return .refuse(.guestSubnet)
    }
    return .relay(hostAddress: .v6(destination))
  }

  /// What to do with a datagram to `destination`. `--deny` wins over the loopback mapping.
  public func decision(for destination: IPv4Address) -> Decision {
    if denied.contains(where: { $0.contains(destination) }) { return .refuse(.denied) }
    if destination == hostLoopback { return .relay(hostAddress: .v4(IPv4Address(127, 0, 0, 1))) }
    if !destination.isUnicast || destination.isLoopback || destination.isLinkLocal
      || destination.rawValue >> 24 == 0
    {
      return .refuse(.reserved)
    }
    if guestSubnet.prefixLength > 0 && guestSubnet.contains(destination) {
      return .refuse(.guestSubnet)
    }
    return .relay(hostAddress: .v4(destination))
  }
}
