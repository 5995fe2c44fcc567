/// What the forwarder asks of its surroundings: something to do towards the upstream name
/// servers (the host driver does it with host sockets), or towards a guest (the stack does it).
public enum DNSForwarderAction: Equatable, Sendable {
  case upstream(DNSUpstreamAction)
  case guest(DNSGuestAction)
}

/// Work for the driver that talks to the upstream name servers.
public enum DNSUpstreamAction: Equatable, Sendable {
  /// Open a new UDP socket bound to port 0 (any address, a port of the kernel's choosing),
  /// send `message` from it to `server`, and report what arrives on it with
  /// ``DNSForwarder/receiveUpstreamUDP(_:socket:from:now:)`` (a failure to open or send, or an
  /// ICMP error, with ``DNSForwarder/upstreamFailed(socket:now:)``).
  case sendUDP(socket: DNSUpstreamSocket, server: DNSEndpoint, message: [UInt8])
  /// Open a TCP connection to `server`, write `bytes` (a message with its two-byte length,
  /// RFC 1035 §4.2.2) and report what arrives with
  /// ``DNSForwarder/receiveUpstreamTCP(_:socket:now:)``, the end of the stream or a failure
  /// with ``DNSForwarder/upstreamFailed(socket:now:)``.
  case openTCP(socket: DNSUpstreamSocket, server: DNSEndpoint, bytes: [UInt8])
  /// Close the socket; nothing more is reported for it.
  case close(DNSUpstreamSocket)
}

/// Work for the stack, towards the guests.
public enum DNSGuestAction: Equatable, Sendable {
  /// Send `message` in a UDP datagram from `from` (the address and port the query went to)
  /// to `to` (where it came from).
  case answerUDP(from: DNSEndpoint, to: DNSEndpoint, message: [UInt8])
  /// Write `bytes` (a message with its two-byte length) to the connection.
  case answerTCP(connection: DNSGuestConnection, bytes: [UInt8])
  /// Close the connection: idle too long, a bad length prefix, no room for it, or its reading
  /// side ended and every query on it is answered.
  case closeConnection(DNSGuestConnection)
}
