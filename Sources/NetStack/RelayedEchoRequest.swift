import NetCore

/// An ICMP echo request (RFC 792; ICMPv6's, RFC 4443 §4.1) a guest sent to another host through the stack, waiting for
/// the host side of the relay to send it from an ICMP socket.
public struct RelayedEchoRequest: Sendable, Equatable {
  /// The guest that sent it.
  public var guest: IPAddress
  /// The address the guest sent it to, which the reply must come from.
  public var destination: IPAddress
  /// Where the host sends it (``destination``, or 127.0.0.1 for the host-loopback address).
  public var hostDestination: IPAddress
  public var identifier: UInt16
  public var sequence: UInt16
  /// The echo data, returned in the reply.
  public var payload: [UInt8]
  /// The whole IPv4 or IPv6 packet as received, for an ICMP error about it.
  public var packet: [UInt8]

  public init(
    guest: IPAddress, destination: IPAddress, hostDestination: IPAddress,
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
