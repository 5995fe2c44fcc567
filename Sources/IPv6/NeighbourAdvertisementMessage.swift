import NetCore

/// A neighbour advertisement (RFC 4861 §4.4): `target` is at the link-layer address in the
/// target link-layer address option, answering a solicitation or announcing a change.
public struct NeighbourAdvertisementMessage: Equatable, Sendable {
  /// The R flag: the sender is a router.
  public var router: Bool
  /// The S flag: this answers a solicitation (and so confirms reachability).
  public var solicited: Bool
  /// The O flag: the advertisement should override a cached link-layer address.
  public var override: Bool
  public var target: IPv6Address
  public var options: NDPOptions

  /// ICMP bytes of an advertisement without options.
  public static let minimumLength = 24

  public init(
    router: Bool = false, solicited: Bool, override: Bool, target: IPv6Address,
    options: NDPOptions = NDPOptions()
  ) {
    self.router = router
    self.solicited = solicited
    self.override = override
    self.target = target
    self.options = options
  }

  /// Parses and validates (§7.1.2: hop limit 255, code 0, at least 24 bytes, a target that is
  /// not multicast, options of non-zero length, no Solicited flag to a multicast
  /// destination).
  public init(parsing message: borrowing ICMPv6Packet, context: NDPContext)
    throws(NDPValidationError)
  {
    try context.checkCommon(message, minimumLength: NeighbourAdvertisementMessage.minimumLength)
    let rest = message.restOfHeader
    router = rest & 0x8000_0000 != 0
    solicited = rest & 0x4000_0000 != 0
    override = rest & 0x2000_0000 != 0
    let body = message.body
    target = IPv6Address(body, at: 0)
    guard !target.isMulticast else { throw .target }
    guard !(solicited && context.destination.isMulticast) else { throw .solicitedFlag }
    options = try NDPOptions(parsing: body.extracting(droppingFirst: 16))
  }

  public var icmpHeader: ICMPv6Header {
    var rest: UInt32 = 0
    if router { rest |= 0x8000_0000 }
    if solicited { rest |= 0x4000_0000 }
    if override { rest |= 0x2000_0000 }
    return ICMPv6Header(type: .neighbourAdvertisement, code: 0, restOfHeader: rest)
  }

  /// The message after its 8-byte header: the target, then the options.
  public var body: [UInt8] { target.octets + options.emitted() }
}
