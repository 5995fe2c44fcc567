import NetCore

/// What the stack's side of the relay did with datagrams to other hosts.
public struct RelayCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "relay"

  /// Refused (answered with ICMP "communication administratively prohibited"): the host's
  /// loopback and other reserved addresses.
  public var refusedReserved: UInt64 = 0
  /// Refused: inside the guests' own subnet.
  public var refusedGuestSubnet: UInt64 = 0
  /// Refused: inside a `--deny` range.
  public var refusedDenied: UInt64 = 0
  /// Refused (answered with ICMPv6 destination unreachable, beyond scope of source address,
  /// RFC 4443 §3.1 code 2): from a guest's link-local address, which is not routable off its
  /// link (RFC 4291 §2.5.6; Linux's forwarding refuses it with the same code).
  public var refusedLinkLocalSource: UInt64 = 0
  /// Echo requests handed to the host side.
  public var echoRequestsRelayed: UInt64 = 0
  /// Echo requests refused because the host allows no ICMP sockets.
  public var echoRefusedUnavailable: UInt64 = 0
  /// Echo requests dropped because the queue to the host side was full.
  public var echoDroppedQueueFull: UInt64 = 0
  /// ICMP that is not an echo request (or is malformed), dropped.
  public var icmpDropped: UInt64 = 0
  /// UDP datagrams handed to the host side.
  public var udpDatagramsRelayed: UInt64 = 0
  /// UDP datagrams dropped: the queue to the host side was full (datagrams or bytes).
  public var udpDroppedQueueFull: UInt64 = 0
  /// UDP datagrams dropped: malformed, a bad checksum, or to port 0.
  public var udpDroppedMalformed: UInt64 = 0
  /// UDP datagrams sent to a guest from the host side's answers.
  public var udpRepliesSent: UInt64 = 0
  /// TCP segments to other hosts handed to the TCP layer (pending opens and relayed
  /// connections).
  public var tcpSegmentsRelayed: UInt64 = 0
  /// Protocols other than ICMP, UDP and TCP to other hosts, dropped: not relayed.
  public var droppedUnsupportedProtocol: UInt64 = 0

  public init() {}

  /// Counts one refusal of the destination policy under its reason.
  mutating func countRefusal(_ reason: RelayDestinationPolicy.Refusal) {
    switch reason {
    case .reserved: refusedReserved += 1
    case .guestSubnet: refusedGuestSubnet += 1
    case .denied: refusedDenied += 1
    }
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("refused_reserved", refusedReserved)
    body("refused_guest_subnet", refusedGuestSubnet)
    body("refused_denied", refusedDenied)
    body("refused_link_local_source", refusedLinkLocalSource)
    body("echo_requests_relayed", echoRequestsRelayed)
    body("echo_refused_unavailable", echoRefusedUnavailable)
    body("echo_dropped_queue_full", echoDroppedQueueFull)
    body("icmp_dropped", icmpDropped)
    body("udp_datagrams_relayed", udpDatagramsRelayed)
    body("udp_dropped_queue_full", udpDroppedQueueFull)
    body("udp_dropped_malformed", udpDroppedMalformed)
    body("udp_replies_sent", udpRepliesSent)
    body("tcp_segments_relayed", tcpSegmentsRelayed)
    body("dropped_unsupported_protocol", droppedUnsupportedProtocol)
  }
}
