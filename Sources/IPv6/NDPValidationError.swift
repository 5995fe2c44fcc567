import NetCore

/// Why a neighbour discovery message was found invalid and silently discarded (RFC 4861
/// §6.1.1, §6.1.2, §7.1.1, §7.1.2, §8.1).
public enum NDPValidationError: Error, Equatable, Sendable {
  /// The IP hop limit is not 255: the message may have come through a router.
  case hopLimit
  /// The ICMP code is not 0.
  case code
  /// The ICMP length is below the message's minimum.
  case truncated
  /// An option with length zero.
  case zeroLengthOption
  /// An option runs past the message.
  case truncatedOption
  /// A link-layer address option of another length than Ethernet's.
  case badLinkLayerAddressOption
  /// The IP source may not send this message (not link-local for a router advertisement or
  /// redirect; the unspecified address with a source link-layer address option).
  case source
  /// The IP destination does not fit (a solicitation from the unspecified address not to a
  /// solicited-node group; a multicast redirect destination).
  case destination
  /// The target is multicast, or not link-local (nor the destination) in a redirect.
  case target
  /// An advertisement to a multicast address with the Solicited flag.
  case solicitedFlag
}

/// What neighbour discovery validation needs to know of the packet around a message.
public struct NDPContext: Sendable {
  public var source: IPv6Address
  public var destination: IPv6Address
  public var hopLimit: UInt8

  public init(source: IPv6Address, destination: IPv6Address, hopLimit: UInt8) {
    self.source = source
    self.destination = destination
    self.hopLimit = hopLimit
  }

  /// The hop limit every neighbour discovery message is sent and must arrive with.
  public static let hopLimit: UInt8 = 255

  /// The checks every message shares: hop limit 255 and code 0 (and, by the caller, a
  /// verified checksum), and at least `minimumLength` bytes of ICMP.
  func checkCommon(_ message: borrowing ICMPv6Packet, minimumLength: Int)
    throws(NDPValidationError)
  {
    guard hopLimit == NDPContext.hopLimit else { throw .hopLimit }
    guard message.code == 0 else { throw .code }
    guard message.bytes.count >= minimumLength else { throw .truncated }
  }
}
