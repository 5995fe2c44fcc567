import NetCore

/// Per-packet choices for ``IPv6Layer/send(_:nextHeader:to:options:now:)``.
public struct IPv6SendOptions: Sendable {
  /// The source address; nil chooses one (RFC 6724). When given it must be a usable address
  /// of the interface.
  public var source: IPv6Address?
  /// Refuse to fragment: a packet larger than the path MTU fails with ``IPv6SendError/tooLarge``
  /// (TCP sizes its segments to the path MTU instead).
  public var dontFragment: Bool
  public var trafficClass: UInt8
  /// The 20-bit flow label (RFC 6437).
  public var flowLabel: UInt32
  /// Nil uses the layer's hop limit (64, or what a router advertised).
  public var hopLimit: UInt8?

  public init(
    source: IPv6Address? = nil, dontFragment: Bool = false, trafficClass: UInt8 = 0,
    flowLabel: UInt32 = 0, hopLimit: UInt8? = nil
  ) {
    self.source = source
    self.dontFragment = dontFragment
    self.trafficClass = trafficClass
    self.flowLabel = flowLabel & 0xF_FFFF
    self.hopLimit = hopLimit
  }
}

/// Why a packet could not be sent.
public enum IPv6SendError: Error, Equatable, Sendable {
  /// No on-link prefix, redirect or default router covers the destination (RFC 4943: a host
  /// does not assume a destination is on-link), or the destination is unspecified or loopback.
  case noRoute
  /// No usable address of the interface can be the source (none yet, or only tentative ones),
  /// or the given source is not one.
  case noSourceAddress
  /// Larger than the path MTU with fragmentation refused, or larger than an IPv6 packet can
  /// be.
  case tooLarge
}

extension IPv6SendError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .noRoute: "no route to host"
    case .noSourceAddress: "no usable source address"
    case .tooLarge: "message too long"
    }
  }
}

/// Why an address could not be configured.
public enum IPv6ConfigurationError: Error, Equatable, Sendable {
  /// Not a unicast address (unspecified, loopback or multicast), or an IPv4-mapped one
  /// (RFC 4942 §2.2: no interface has one); for a service's address, a link-local one too.
  case notUnicast
  /// The interface has the address already.
  case exists
  /// The address table is full.
  case full
}
