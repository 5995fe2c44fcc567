import NetCore

/// The protocol field of an IPv4 header (IANA "Assigned Internet Protocol Numbers").
///
/// An open set: unknown numbers round-trip, so the stack can answer them with ICMP protocol
/// unreachable.
public struct IPProtocolNumber: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let icmp = IPProtocolNumber(rawValue: 1)
  public static let tcp = IPProtocolNumber(rawValue: 6)
  public static let udp = IPProtocolNumber(rawValue: 17)
}
