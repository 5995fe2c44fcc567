import NetCore

/// A packet for a transport, from ``IPv6Layer/receive(_:linkMulticast:now:)``.
public struct IPv6Delivery: Sendable {
  public var source: IPv6Address
  public var destination: IPv6Address
  /// The upper-layer protocol (TCP, UDP, ...).
  public var nextHeader: IPv6NextHeader
  /// Where the upper-layer header starts in the packet's bytes (after any extension headers).
  public var payloadOffset: Int
  /// Bytes of the upper-layer packet.
  public var payloadLength: Int
  /// Where the next header field that named the upper layer is (the fixed header's, or the
  /// last extension header's): the pointer of a parameter problem about it (RFC 8200 §4).
  public var nextHeaderFieldOffset: Int
  public var hopLimit: UInt8
  public var trafficClass: UInt8
  /// Whether it came in a link-layer multicast or broadcast frame (never answered with an
  /// ICMPv6 error, RFC 4443 §2.4 e).
  public var linkMulticast: Bool
  /// Whether it is for another host, handed up for a relay to re-originate
  /// (``IPv6Layer/relaysOtherDestinations``), not to our transports; ICMPv6 included.
  public var isRelayed: Bool

  public init(
    source: IPv6Address, destination: IPv6Address, nextHeader: IPv6NextHeader,
    payloadOffset: Int, payloadLength: Int, hopLimit: UInt8, trafficClass: UInt8,
    linkMulticast: Bool, nextHeaderFieldOffset: Int = IPv6Packet.Field.nextHeader,
    isRelayed: Bool = false
  ) {
    self.isRelayed = isRelayed
    self.nextHeaderFieldOffset = nextHeaderFieldOffset
    self.source = source
    self.destination = destination
    self.nextHeader = nextHeader
    self.payloadOffset = payloadOffset
    self.payloadLength = payloadLength
    self.hopLimit = hopLimit
    self.trafficClass = trafficClass
    self.linkMulticast = linkMulticast
  }
}

/// An ICMPv6 error about a packet this stack sent, for the transport that sent it (RFC 4443
/// §2.4 a): a packet too big lowers TCP's segment size (RFC 8201 §5.2), an unreachable port
/// ends a connection attempt.
public struct ICMPv6ErrorReport: Sendable, Equatable {
  public var type: ICMPv6Type
  public var code: UInt8
  /// Who sent the error.
  public var reporter: IPv6Address
  /// The MTU a packet too big reported (never below 1280).
  public var mtu: Int?
  /// The pointer of a parameter problem.
  public var pointer: UInt32?
  /// The quoted packet's addresses and upper layer.
  public var quotedSource: IPv6Address
  public var quotedDestination: IPv6Address
  public var quotedNextHeader: IPv6NextHeader
  /// The start of the quoted upper-layer header (ports, sequence number), up to 40 bytes.
  public var quotedTransportHeader: [UInt8]

  /// The most bytes of the quoted upper-layer header kept.
  public static let quotedTransportLimit = 40

  /// Whether this is a destination unreachable from the destination itself saying nothing
  /// takes the packet (port unreachable): a hard error for a connection being opened (RFC
  /// 1122 §4.2.3.9). The other codes (no route, administratively prohibited, beyond scope,
  /// address unreachable, policy, reject route) are soft (RFC 5461 §4).
  public var isHardUnreachable: Bool {
    type == .destinationUnreachable && code == ICMPv6UnreachableCode.portUnreachable.rawValue
  }
}

/// What ``IPv6Layer/receive(_:linkMulticast:now:)`` did with a packet.
public enum IPv6Input {
  /// Handled here (ICMPv6, neighbour discovery, MLD), held (a fragment) or dropped and counted.
  case consumed
  /// A packet for a transport: the received bytes, cut to the payload length, are the packet.
  case local(IPv6Delivery)
  /// A reassembled packet for a transport; the buffer holds the whole packet.
  case reassembled(IPv6Delivery, PacketBuffer)
  /// An ICMPv6 error about a packet a transport sent.
  case error(ICMPv6ErrorReport)
}

/// An echo reply for a request this stack sent.
public struct ICMPv6EchoReply: Equatable, Sendable {
  public var source: IPv6Address
  public var identifier: UInt16
  public var sequence: UInt16
  public var payloadLength: Int
  public var receivedAt: Instant
}
