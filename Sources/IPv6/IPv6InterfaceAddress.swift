import NetCore

/// One address of the interface, with where it came from, its duplicate address detection
/// state and its lifetimes (RFC 4862 §2, §5.4, §5.5.4).
public struct IPv6InterfaceAddress: Equatable, Sendable {
  /// How the address came to be.
  public enum Origin: Equatable, Sendable {
    /// The link-local address every interface has (RFC 4862 §5.3).
    case linkLocal
    /// Given by the configuration (`--ip6`).
    case manual
    /// Formed from a prefix of a router advertisement (RFC 4862 §5.5.3).
    case autoconfigured
    /// An address the stack answers at for a service of its own (the relay's DNS address):
    /// checked by duplicate address detection and answered for in neighbour discovery like
    /// any other, but never chosen as a source (RFC 6724 §4's candidate set leaves it out).
    case service

    /// The origin's name in reports.
    public var name: String {
      switch self {
      case .linkLocal: "link-local"
      case .manual: "manual"
      case .autoconfigured: "autoconfigured"
      case .service: "service"
      }
    }
  }

  /// Where the address is in its life (RFC 4862 §2).
  public enum State: Equatable, Sendable {
    /// Being checked by duplicate address detection: not used, and not answered for.
    case tentative
    /// Usable for anything.
    case preferred
    /// Its preferred lifetime is over: still valid for what uses it, not chosen for new
    /// communication (RFC 4862 §5.5.4).
    case deprecated
    /// Another node has it: never used.
    case duplicate

    /// The state's name in reports.
    public var name: String {
      switch self {
      case .tentative: "tentative"
      case .preferred: "preferred"
      case .deprecated: "deprecated"
      case .duplicate: "duplicate"
      }
    }
  }

  public var address: IPv6Address
  public var prefixLength: Int
  public var origin: Origin
  public var state: State
  /// When the address stops being valid (nil: never).
  public var validUntil: Instant?
  /// When the address becomes deprecated (nil: never).
  public var preferredUntil: Instant?
  /// Duplicates met for this prefix so far (RFC 7217 DAD_Counter).
  public var dadCounter: Int

  /// Solicitations of duplicate address detection still to send.
  var solicitationsLeft = 0
  /// When the next solicitation is due, or (none left) when detection ends.
  var nextDetectionEvent: Instant?
  /// The nonce of this address's solicitations (RFC 7527): one of ours looped back is no
  /// duplicate.
  var nonce: [UInt8] = []

  public init(
    address: IPv6Address, prefixLength: Int, origin: Origin, state: State,
    validUntil: Instant? = nil, preferredUntil: Instant? = nil, dadCounter: Int = 0
  ) {
    self.address = address
    self.prefixLength = prefixLength
    self.origin = origin
    self.state = state
    self.validUntil = validUntil
    self.preferredUntil = preferredUntil
    self.dadCounter = dadCounter
  }

  /// Whether the address may be used as a source or answered for: preferred or deprecated.
  public var isUsable: Bool { state == .preferred || state == .deprecated }

  /// The address with its prefix length.
  public var cidr: IPv6CIDR { IPv6CIDR(address: address, prefixLength: prefixLength) }
}
