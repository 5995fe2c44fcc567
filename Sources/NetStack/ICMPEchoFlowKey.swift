import NetCore

/// What names an ICMP echo flow of the relay (RFC 792: the guest's identifier, which the
/// host's ICMP socket replaces with its own; RFC 4443 §4.1 for ICMPv6). Both addresses are
/// of one family.
public struct ICMPEchoFlowKey: Hashable, Sendable {
  public var guest: IPAddress
  public var identifier: UInt16
  public var destination: IPAddress

  public init(guest: IPAddress, identifier: UInt16, destination: IPAddress) {
    self.guest = guest
    self.identifier = identifier
    self.destination = destination
  }
}

/// The relay's ICMP echo flows.
public typealias ICMPEchoFlowTable = RelayFlowTable<ICMPEchoFlowKey>
