import NetCore

/// A router solicitation (RFC 4861 §4.1): a host asks routers to advertise now.
public struct RouterSolicitationMessage: Equatable, Sendable {
  public var options: NDPOptions

  /// ICMP bytes of a solicitation without options.
  public static let minimumLength = 8

  public init(options: NDPOptions = NDPOptions()) { self.options = options }

  /// Parses and validates (§6.1.1: hop limit 255, code 0, at least 8 bytes, options of
  /// non-zero length, no source link-layer address from the unspecified address).
  public init(parsing message: borrowing ICMPv6Packet, context: NDPContext)
    throws(NDPValidationError)
  {
    try context.checkCommon(message, minimumLength: RouterSolicitationMessage.minimumLength)
    options = try NDPOptions(parsing: message.body)
    if context.source.isUnspecified && options.sourceLinkLayerAddress != nil {
      throw .source
    }
  }

  public var icmpHeader: ICMPv6Header { ICMPv6Header(type: .routerSolicitation, code: 0) }
  /// The message after its 8-byte header.
  public var body: [UInt8] { options.emitted() }
}
