import NetCore

/// An address and UDP/TCP port: where a guest's query came from, the stack's address it was
/// sent to, or an upstream name server.
///
/// The address is IPv4 now; IPv6 joins as a case when the stack has it.
public struct DNSEndpoint: Hashable, Sendable {
  public var address: IPv4Address
  public var port: UInt16

  public init(_ address: IPv4Address, _ port: UInt16) {
    self.address = address
    self.port = port
  }

  /// A name server's port (RFC 1035 §4.2).
  public static let serverPort: UInt16 = 53
}

extension DNSEndpoint: CustomStringConvertible {
  public var description: String { "\(address):\(port)" }
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
