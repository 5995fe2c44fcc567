import NetCore

/// What names an ICMP echo flow of the relay (RFC 792: the guest's identifier, which the
/// host's ICMP socket replaces with its own).
public struct ICMPEchoFlowKey: Hashable, Sendable {
  public var guest: IPv4Address
  public var identifier: UInt16
  public var destination: IPv4Address

  public init(guest: IPv4Address, identifier: UInt16, destination: IPv4Address) {
    self.guest = guest
    self.identifier = identifier
    self.destination = destination
  }
}

/// The relay's ICMP echo flows.
public typealias ICMPEchoFlowTable = RelayFlowTable<ICMPEchoFlowKey>
