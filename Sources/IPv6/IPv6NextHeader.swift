import NetCore

/// The Next Header field of IPv6 and its extension headers (RFC 8200 §3, §4; IANA "Assigned
/// Internet Protocol Numbers"): which header follows.
///
/// An open set: unknown values round-trip, so that the layer can answer them with ICMPv6
/// parameter problem, code 1 (RFC 8200 §4).
public struct IPv6NextHeader: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let hopByHopOptions = IPv6NextHeader(rawValue: 0)
  public static let tcp = IPv6NextHeader(rawValue: 6)
  public static let udp = IPv6NextHeader(rawValue: 17)
  public static let routing = IPv6NextHeader(rawValue: 43)
  public static let fragment = IPv6NextHeader(rawValue: 44)
  public static let encapsulatingSecurityPayload = IPv6NextHeader(rawValue: 50)
  public static let authentication = IPv6NextHeader(rawValue: 51)
  public static let icmpv6 = IPv6NextHeader(rawValue: 58)
  /// Nothing follows (RFC 8200 §4.7).
  public static let noNextHeader = IPv6NextHeader(rawValue: 59)
  public static let destinationOptions = IPv6NextHeader(rawValue: 60)
}
