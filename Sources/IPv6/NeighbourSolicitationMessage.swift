import NetCore

/// A neighbour solicitation (RFC 4861 §4.3): who has `target`? Sent to the target's
/// solicited-node group to resolve it, unicast to confirm it is still there, and from the
/// unspecified address to detect a duplicate (RFC 4862 §5.4.2).
public struct NeighbourSolicitationMessage: Equatable, Sendable {
  public var target: IPv6Address
  public var options: NDPOptions

  /// ICMP bytes of a solicitation without options.
  public static let minimumLength = 24

  public init(target: IPv6Address, options: NDPOptions = NDPOptions()) {
    self.target = target
    self.options = options
  }

  /// Parses and validates (§7.1.1: hop limit 255, code 0, at least 24 bytes, a target that is
  /// not multicast, options of non-zero length; from the unspecified address only to a
  /// solicited-node group and without a source link-layer address).
  public init(parsing message: borrowing ICMPv6Packet, context: NDPContext)
    throws(NDPValidationError)
  {
    try context.checkCommon(message, minimumLength: NeighbourSolicitationMessage.minimumLength)
    let body = message.body
    target = IPv6Address(body, at: 0)
    guard !target.isMulticast else { throw .target }
    options = try NDPOptions(parsing: body.extracting(droppingFirst: 16))
    if context.source.isUnspecified {
      guard context.destination.isSolicitedNodeMulticast else { throw .destination }
      guard options.sourceLinkLayerAddress == nil else { throw .source }
    }
  }

  public var icmpHeader: ICMPv6Header { ICMPv6Header(type: .neighbourSolicitation, code: 0) }
  /// The message after its 8-byte header: the target, then the options.
  public var body: [UInt8] { target.octets + options.emitted() }
}
