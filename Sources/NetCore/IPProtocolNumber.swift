/// The upper-layer protocol of an IP packet: IPv4's protocol field (RFC 791 §3.1) and IPv6's
/// next header of the upper layer (RFC 8200 §3), one number space (IANA "Assigned Internet
/// Protocol Numbers").
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
