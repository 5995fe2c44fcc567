import IPv4
import IPv6

/// Why the relay tells a guest that a destination cannot be reached, in words common to both
/// families: each becomes ICMP destination unreachable with the code of the guest's family
/// (RFC 792 and RFC 1122 §3.2.2.1 for IPv4, RFC 4443 §3.1 for IPv6).
public enum RelayUnreachable: Sendable, Equatable {
  /// No route to the destination's network (IPv4 network unreachable, IPv6 no route).
  case network
  /// The destination does not answer (IPv4 host unreachable, IPv6 address unreachable).
  case host
  /// The destination refused the datagram's port (port unreachable).
  case port
  /// A policy refused it (`--deny`, or the host refused the socket).
  case administrativelyProhibited
  /// IPv6 only: a link-local source asked for a destination beyond the link (code 2); host
  /// unreachable over IPv4.
  case beyondScopeOfSource

  /// The code of an ICMP destination unreachable.
  public var ipv4Code: ICMPv4UnreachableCode {
    switch self {
    case .network: .network
    case .host, .beyondScopeOfSource: .host
    case .port: .port
    case .administrativelyProhibited: .administrativelyProhibited
    }
  }

  /// The code of an ICMPv6 destination unreachable.
  public var ipv6Code: ICMPv6UnreachableCode {
    switch self {
    case .network: .noRoute
    case .host: .addressUnreachable
    case .port: .portUnreachable
    case .administrativelyProhibited: .administrativelyProhibited
    case .beyondScopeOfSource: .beyondScopeOfSource
    }
  }

  /// The reason an ICMP destination unreachable code gives (an error the host's socket got);
  /// nil for fragmentation needed and the codes a relay does not pass on.
  public init?(ipv4Code code: UInt8) {
    switch code {
    case 0, 6, 11: self = .network
    case 1, 7, 12: self = .host
    case 3: self = .port
    case 9, 10, 13: self = .administrativelyProhibited
    default: return nil
    }
  }

  /// The reason an ICMPv6 destination unreachable code gives; nil for codes a relay does not
  /// pass on.
  public init?(ipv6Code code: UInt8) {
    switch code {
    case 0, 6: self = .network
    case 2, 3: self = .host
    case 4: self = .port
    case 1, 5: self = .administrativelyProhibited
    default: return nil
    }
  }
}
