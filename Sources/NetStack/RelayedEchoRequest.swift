import NetCore

/// An ICMP echo request (RFC 792) a guest sent to another host through the stack, waiting for
/// the host side of the relay to send it from an ICMP socket.
public struct RelayedEchoRequest: Sendable, Equatable {
  /// The guest that sent it.
  public var guest: IPv4Address
  /// The address the guest sent it to, which the reply must come from.
  public var destination: IPv4Address
  /// Where the host sends it (``destination``, or 127.0.0.1 for the host-loopback address).
  public var hostDestination: IPv4Address
  public var identifier: UInt16
  public var sequence: UInt16
  /// The echo data, returned in the reply.
  public var payload: [UInt8]
  /// The whole IPv4 packet as received, for an ICMP error about it.
  public var packet: [UInt8]

  public init(
    guest: IPv4Address, destination: IPv4Address, hostDestination: IPv4Address,
    identifier: UInt16, sequence: UInt16, payload: [UInt8], packet: [UInt8]
  ) {
    self.guest = guest
    self.destination = destination
    self.hostDestination = hostDestination
    self.identifier = identifier
    self.sequence = sequence
    self.payload = payload
    self.packet = packet
  }
}
