import NetCore

/// A redirect (RFC 4861 §4.5): the first-hop router tells a host that packets for
/// `destination` are better sent to `target`, a router on the link or the destination itself.
public struct RedirectMessage: Equatable, Sendable {
  public var target: IPv6Address
  public var destination: IPv6Address
  public var options: NDPOptions

  /// ICMP bytes of a redirect without options.
  public static let minimumLength = 40

  public init(target: IPv6Address, destination: IPv6Address, options: NDPOptions = NDPOptions()) {
    self.target = target
    self.destination = destination
    self.options = options
  }

  /// Parses and validates (§8.1: a link-local source, hop limit 255, code 0, at least 40
  /// bytes, a destination that is not multicast, a target that is link-local or the
  /// destination, options of non-zero length). Whether the source is the current first hop
  /// for the destination is the receiver's check.
  public init(parsing message: borrowing ICMPv6Packet, context: NDPContext)
    throws(NDPValidationError)
  {
    try context.checkCommon(message, minimumLength: RedirectMessage.minimumLength)
    guard context.source.isLinkLocal else { throw .source }
    let body = message.body
    target = IPv6Address(body, at: 0)
    destination = IPv6Address(body, at: 16)
    guard !destination.isMulticast else { throw .destination }
    guard target.isLinkLocal || target == destination else { throw .target }
    options = try NDPOptions(parsing: body.extracting(droppingFirst: 32))
  }

  public var icmpHeader: ICMPv6Header { ICMPv6Header(type: .redirect, code: 0) }
  /// The message after its 8-byte header: target, destination, options.
  public var body: [UInt8] { target.octets + destination.octets + options.emitted() }
}
