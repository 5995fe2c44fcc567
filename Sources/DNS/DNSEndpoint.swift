import NetCore

/// An address and UDP/TCP port: where a guest's query came from, the stack's address it was
/// sent to, or an upstream name server. Either family (RFC 1035 §4.2 over IPv4, RFC 3596 §1's
/// transport over IPv6): the forwarder only compares endpoints, so a query that came over IPv6
/// may be asked upstream over IPv4 and the other way round.
public struct DNSEndpoint: Hashable, Sendable {
  public var address: IPAddress
  public var port: UInt16

  public init(_ address: IPAddress, _ port: UInt16) {
    self.address = address
    self.port = port
  }

  /// An IPv4 address and port.
  public init(_ address: IPv4Address, _ port: UInt16) {
    self.init(.v4(address), port)
  }

  /// An IPv6 address and port.
  public init(_ address: IPv6Address, _ port: UInt16) {
    self.init(.v6(address), port)
  }

  /// A name server's port (RFC 1035 §4.2).
  public static let serverPort: UInt16 = 53
}

extension DNSEndpoint: CustomStringConvertible {
  /// `10.0.2.3:53`, or `[fd00::3]:53` (RFC 5952 §6).
  public var description: String {
    switch address {
    case .v4(let ipv4): "\(ipv4):\(port)"
    case .v6(let ipv6): "[\(ipv6)]:\(port)"
    }
  }
}

/// One upstream query's socket, named by the forwarder: each try of each query gets a fresh
/// one (a fresh source port, RFC 5452 §9.2), which the driver opens for
/// ``DNSUpstreamAction/sendUDP(socket:server:message:)`` or
/// ``DNSUpstreamAction/openTCP(socket:server:bytes:)`` and closes on
/// ``DNSUpstreamAction/close(_:)``. Never reused.
public struct DNSUpstreamSocket: Hashable, Sendable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
}

/// A guest's TCP connection to the forwarder, named by whoever accepted it (the stack).
public struct DNSGuestConnection: Hashable, Sendable {
  public let rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }
}
