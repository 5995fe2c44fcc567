import NetCore

/// Which destinations a guest may reach through the relay, and where each goes on the host
/// (as slirp4netns's `--disable-host-loopback` and `--cidr` rules; RFC 1812 §5.3.7 for the
/// addresses a router never forwards to).
///
/// Refused always: this-network 0.0.0.0/8, the host's loopback 127.0.0.0/8, link-local
/// 169.254.0.0/16, multicast, class E and broadcast, and the guests' own subnet (its hosts are
/// on the link, never behind the gateway). Refused on request: the ranges of `--deny`. The one
/// way to the host's loopback is ``hostLoopback``, an address that the relay maps to 127.0.0.1.
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
    /// for ``RelayDestinationPolicy/hostLoopback``).
    case relay(hostAddress: IPv4Address)
    case refuse(Refusal)
  }

  /// The most `--deny` ranges.
  public static let maximumDeniedRanges = 64

  /// The guests' subnet (the stack's address and prefix).
  public var guestSubnet: IPv4CIDR
  /// Ranges the guest may not reach.
  public private(set) var denied: [IPv4CIDR] = []
  /// The address the guest uses for the host's 127.0.0.1, if any.
  public var hostLoopback: IPv4Address?

  /// A policy for guests in `guestSubnet` with nothing denied and no way to the host's loopback.
  public init(guestSubnet: IPv4CIDR) {
    self.guestSubnet = guestSubnet
  }

  /// Adds a denied range; false when ``maximumDeniedRanges`` are already there.
  public mutating func deny(_ range: IPv4CIDR) -> Bool {
    guard denied.count < RelayDestinationPolicy.maximumDeniedRanges else { return false }
    denied.append(range.network)
    return true
  }

  /// What to do with a datagram to `destination`. `--deny` wins over the loopback mapping.
  public func decision(for destination: IPv4Address) -> Decision {
    if denied.contains(where: { $0.contains(destination) }) { return .refuse(.denied) }
    if destination == hostLoopback { return .relay(hostAddress: IPv4Address(127, 0, 0, 1)) }
    if !destination.isUnicast || destination.isLoopback || destination.isLinkLocal
      || destination.rawValue >> 24 == 0
    {
      return .refuse(.reserved)
    }
    if guestSubnet.prefixLength > 0 && guestSubnet.contains(destination) {
      return .refuse(.guestSubnet)
    }
    return .relay(hostAddress: destination)
  }
}
