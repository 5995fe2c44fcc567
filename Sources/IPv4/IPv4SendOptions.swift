import NetCore

/// Per-datagram choices for the IPv4 layer's own `send` to an `IPv4Address` (RFC 791
/// §3.1: the source, DF, type of service and time to live of the header).
public struct IPv4SendOptions: Sendable {
  /// The source address; nil picks the interface address (0.0.0.0 while there is none).
  public var source: IPv4Address?
  /// Set the DF flag (TCP does, for path MTU discovery; RFC 1191).
  public var dontFragment: Bool
  public var typeOfService: UInt8
  /// Nil uses the layer's default (64).
  public var timeToLive: UInt8?

  public init(
    source: IPv4Address? = nil, dontFragment: Bool = false, typeOfService: UInt8 = 0,
    timeToLive: UInt8? = nil
  ) {
    self.source = source
    self.dontFragment = dontFragment
    self.typeOfService = typeOfService
    self.timeToLive = timeToLive
  }
}

/// Why a datagram could not be sent (a transport sees it as `TransportSendError`).
public enum IPv4SendError: Error, Equatable, Sendable {
  /// No route covers the destination (no on-link network and no gateway).
  case noRoute
  /// Larger than the MTU with DF set, or larger than an IPv4 datagram can be.
  case tooLarge
}

extension IPv4SendError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .noRoute: "no route to host"
    case .tooLarge: "message too long"
    }
  }
}
