import NetCore

/// A router advertisement (RFC 4861 §4.2): a router's parameters for the link, its prefixes
/// and how long it may be used as a default router.
public struct RouterAdvertisementMessage: Equatable, Sendable {
  /// The hop limit hosts should use (0: unspecified).
  public var currentHopLimit: UInt8
  /// The M flag: addresses are available from DHCPv6.
  public var managedAddressConfiguration: Bool
  /// The O flag: other configuration is available from DHCPv6.
  public var otherConfiguration: Bool
  /// Seconds the router may be used as a default router (0: not a default router).
  public var routerLifetime: UInt16
  /// Milliseconds a neighbour is reachable after a confirmation (0: unspecified).
  public var reachableTime: UInt32
  /// Milliseconds between neighbour solicitations (0: unspecified).
  public var retransmitTimer: UInt32
  public var options: NDPOptions

  /// ICMP bytes of an advertisement without options.
  public static let minimumLength = 16

  public init(
    currentHopLimit: UInt8 = 64, managedAddressConfiguration: Bool = false,
    otherConfiguration: Bool = false, routerLifetime: UInt16 = 1800, reachableTime: UInt32 = 0,
    retransmitTimer: UInt32 = 0, options: NDPOptions = NDPOptions()
  ) {
    self.currentHopLimit = currentHopLimit
    self.managedAddressConfiguration = managedAddressConfiguration
    self.otherConfiguration = otherConfiguration
    self.routerLifetime = routerLifetime
    self.reachableTime = reachableTime
    self.retransmitTimer = retransmitTimer
    self.options = options
  }

  /// Parses and validates (§6.1.2: a link-local source, hop limit 255, code 0, at least 16
  /// bytes, options of non-zero length).
  public init(parsing message: borrowing ICMPv6Packet, context: NDPContext)
    throws(NDPValidationError)
  {
    try context.checkCommon(message, minimumLength: RouterAdvertisementMessage.minimumLength)
    guard context.source.isLinkLocal else { throw .source }
    let rest = message.restOfHeader
    currentHopLimit = UInt8(truncatingIfNeeded: rest >> 24)
    managedAddressConfiguration = rest & 0x0080_0000 != 0
    otherConfiguration = rest & 0x0040_0000 != 0
    routerLifetime = UInt16(truncatingIfNeeded: rest)
    let body = message.body
    reachableTime = body.uint32(at: 0)
    retransmitTimer = body.uint32(at: 4)
    options = try NDPOptions(parsing: body.extracting(droppingFirst: 8))
  }

  public var icmpHeader: ICMPv6Header {
    var rest = UInt32(currentHopLimit) << 24 | UInt32(routerLifetime)
    if managedAddressConfiguration { rest |= 0x0080_0000 }
    if otherConfiguration { rest |= 0x0040_0000 }
    return ICMPv6Header(type: .routerAdvertisement, code: 0, restOfHeader: rest)
  }

  /// The message after its 8-byte header: the two timers, then the options.
  public var body: [UInt8] {
    var bytes: [UInt8] = []
    appendUInt32(reachableTime, to: &bytes)
    appendUInt32(retransmitTimer, to: &bytes)
    return bytes + options.emitted()
  }
}
