import NetCore

/// What names a UDP flow of the relay: the guest's address and port and the destination's
/// (RFC 768's four numbers; the host's socket has a port of its own). Both addresses are of
/// one family, IPv4 or IPv6.
public struct UDPFlowKey: Hashable, Sendable {
  public var guest: IPAddress
  public var guestPort: UInt16
  public var destination: IPAddress
  public var destinationPort: UInt16

  public init(
    guest: IPAddress, guestPort: UInt16, destination: IPAddress, destinationPort: UInt16
  ) {
    self.guest = guest
    self.guestPort = guestPort
    self.destination = destination
    self.destinationPort = destinationPort
  }
}

/// The relay's UDP flows.
public typealias UDPFlowTable = RelayFlowTable<UDPFlowKey>
