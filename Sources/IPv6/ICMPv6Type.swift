import NetCore

/// The ICMPv6 type field (RFC 4443 §2.1, RFC 4861 §4, RFC 3810 §5); an open set.
public struct ICMPv6Type: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let destinationUnreachable = ICMPv6Type(rawValue: 1)
  public static let packetTooBig = ICMPv6Type(rawValue: 2)
  public static let timeExceeded = ICMPv6Type(rawValue: 3)
  public static let parameterProblem = ICMPv6Type(rawValue: 4)
  public static let echoRequest = ICMPv6Type(rawValue: 128)
  public static let echoReply = ICMPv6Type(rawValue: 129)
  public static let multicastListenerQuery = ICMPv6Type(rawValue: 130)
  /// An MLDv1 report (RFC 2710 §3.7).
  public static let multicastListenerReportV1 = ICMPv6Type(rawValue: 131)
  /// An MLDv1 done (RFC 2710 §3.7).
  public static let multicastListenerDone = ICMPv6Type(rawValue: 132)
  public static let routerSolicitation = ICMPv6Type(rawValue: 133)
  public static let routerAdvertisement = ICMPv6Type(rawValue: 134)
  public static let neighbourSolicitation = ICMPv6Type(rawValue: 135)
  public static let neighbourAdvertisement = ICMPv6Type(rawValue: 136)
  public static let redirect = ICMPv6Type(rawValue: 137)
  /// An MLDv2 report (RFC 3810 §5.2).
  public static let multicastListenerReportV2 = ICMPv6Type(rawValue: 143)

  /// Whether this is an error message (types 0–127, RFC 4443 §2.1).
  public var isError: Bool { rawValue < 128 }
}

/// Codes of destination unreachable messages (RFC 4443 §3.1).
public enum ICMPv6UnreachableCode: UInt8, Sendable {
  case noRoute = 0
  case administrativelyProhibited = 1
  case beyondScopeOfSource = 2
  case addressUnreachable = 3
  case portUnreachable = 4
  case sourceAddressFailedPolicy = 5
  case rejectRoute = 6
}

/// Codes of time exceeded messages (RFC 4443 §3.3).
public enum ICMPv6TimeExceededCode: UInt8, Sendable {
  case hopLimitExceeded = 0
  case fragmentReassemblyTimeExceeded = 1
}

/// Codes of parameter problem messages (RFC 4443 §3.4, RFC 7112 §5).
public enum ICMPv6ParameterProblemCode: UInt8, Sendable {
  case erroneousHeaderField = 0
  case unrecognizedNextHeader = 1
  case unrecognizedOption = 2
  case incompleteHeaderChain = 3
}
