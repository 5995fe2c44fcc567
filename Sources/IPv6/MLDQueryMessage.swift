import NetCore

/// A multicast listener query (RFC 3810 §5.1, and RFC 2710 §3's 24-byte MLDv1 form): a router
/// asks which groups have listeners on the link, all of them (a general query, multicast
/// address `::`) or one.
public struct MLDQueryMessage: Equatable, Sendable {
  /// The group asked about; `::` for all.
  public var multicastAddress: IPv6Address
  /// How long a listener may wait before answering, from the Maximum Response Code.
  public var maximumResponseDelay: Interval
  /// Sources of a group-and-source-specific query (MLDv2 only).
  public var sources: [IPv6Address]

  /// ICMP bytes of an MLDv1 query; an MLDv2 query has at least 28.
  public static let minimumLength = 24

  public init(
    multicastAddress: IPv6Address, maximumResponseDelay: Interval, sources: [IPv6Address] = []
  ) {
    self.multicastAddress = multicastAddress
    self.maximumResponseDelay = maximumResponseDelay
    self.sources = sources
  }

  /// Parses and validates: a link-local source (RFC 3810 §5.1.14), code 0, 24 bytes (MLDv1) or
  /// 28 and the sources it counts (MLDv2), a multicast or unspecified group.
  public init(parsing message: borrowing ICMPv6Packet, source: IPv6Address)
    throws(MLDValidationError)
  {
    guard source.isLinkLocal else { throw .source }
    guard message.code == 0 else { throw .code }
    let length = message.bytes.count
    guard length >= MLDQueryMessage.minimumLength else { throw .length }
    let body = message.body
    multicastAddress = IPv6Address(body, at: 0)
    guard multicastAddress.isUnspecified || multicastAddress.isMulticast else { throw .group }
    let code = UInt16(truncatingIfNeeded: message.restOfHeader >> 16)
    sources = []
    if length >= 28 {
      maximumResponseDelay = MLDQueryMessage.responseDelay(code: code)
      let count = Int(body.uint16(at: 18))
      guard 28 + 16 * count <= length else { throw .length }
      for index in 0..<count { sources.append(IPv6Address(body, at: 20 + 16 * index)) }
    } else {
      guard length == MLDQueryMessage.minimumLength else { throw .length }
      maximumResponseDelay = .milliseconds(Int64(code))
    }
  }

  /// The Maximum Response Delay of an MLDv2 Maximum Response Code (RFC 3810 §5.1.3): the code
  /// itself in milliseconds below 32768, else a floating-point value.
  public static func responseDelay(code: UInt16) -> Interval {
    guard code >= 0x8000 else { return .milliseconds(Int64(code)) }
    let exponent = Int64(code >> 12 & 0x7)
    let mantissa = Int64(code & 0x0FFF)
    return .milliseconds((mantissa | 0x1000) << (exponent + 3))
  }

  /// Whether this asks about every group.
  public var isGeneral: Bool { multicastAddress.isUnspecified }
}

/// Why an MLD message was discarded.
public enum MLDValidationError: Error, Equatable, Sendable {
  /// Not from a link-local address.
  case source
  /// The ICMP code is not 0.
  case code
  /// Not a length a query can have.
  case length
  /// The group is neither multicast nor unspecified.
  case group
}
