import NetCore

/// The EtherType field of an Ethernet II frame (IEEE 802.3 type field, IANA registry).
///
/// An open set: unknown values are kept as they are, so that a frame can be counted by type.
public struct EtherType: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt16
  public init(rawValue: UInt16) { self.rawValue = rawValue }

  public static let ipv4 = EtherType(rawValue: 0x0800)
  public static let arp = EtherType(rawValue: 0x0806)
  public static let vlan = EtherType(rawValue: 0x8100)
  public static let ipv6 = EtherType(rawValue: 0x86DD)
}
