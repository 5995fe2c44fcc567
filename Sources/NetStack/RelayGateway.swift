import NetCore

/// The stack's side of relay mode: it is the guests' gateway, and what they send to other
/// hosts is checked against the ``RelayDestinationPolicy`` and, for ICMP echo and UDP, queued
/// for the host side to re-originate (architecture principle 14: the host sockets live above the
/// stack). RFC 1812 §5.2.7.1 for the refusals.
public struct RelayGateway {
  /// Echo requests queued for the host side, at most.
  public static let echoQueueLimit = 256
  /// UDP datagrams queued for the host side, at most, and their payload bytes (the queue is
  /// emptied after every poll, so it holds what one poll received).
  public static let udpQueueLimit = 512
  public static let udpQueueByteLimit = 1 << 20

  public var policy: RelayDestinationPolicy
  /// The DNS address guests are given, served by the host side's forwarder; nil for none.
  public let dnsAddress: IPv4Address?
  /// The IPv6 DNS address (slirp4netns's fd00::3), served by the same forwarder; nil for none.
  public let dnsAddress6: IPv6Address?
  /// Whether the host allows ICMP ("ping") sockets; while false, echo requests to other hosts
  /// are refused at once instead of queued.
  public var echoAvailable = true
  /// Echo requests waiting for the host side.
  public var echoRequests = BoundedQueue<RelayedEchoRequest>(limit: RelayGateway.echoQueueLimit)
  /// UDP datagrams waiting for the host side, and their payload bytes.
  public var udpDatagrams = BoundedQueue<RelayedUDPDatagram>(limit: RelayGateway.udpQueueLimit)
  public internal(set) var udpQueuedBytes = 0
  public internal(set) var counters = RelayCounters()

  public init(
    policy: RelayDestinationPolicy, dnsAddress: IPv4Address?, dnsAddress6: IPv6Address? = nil
  ) {
    self.policy = policy
    self.dnsAddress = dnsAddress
    self.dnsAddress6 = dnsAddress6
  }
}

extension RelayGateway {
  /// Queues a guest's echo request for the host side: counted as relayed, or as dropped when
  /// the queue is full.
  mutating func queueEchoRequest(_ request: RelayedEchoRequest) {
    if echoRequests.append(request) {
      counters.echoRequestsRelayed += 1
    } else {
      counters.echoDroppedQueueFull += 1
    }
  }

  /// Queues a guest's UDP payload on `flow` for the host side: counted as relayed, or as
  /// dropped when the queue is full in datagrams or in bytes.
  mutating func queueUDPDatagram(
    on flow: UDPFlowKey, hostDestination: IPAddress, payload: Span<UInt8>
  ) {
    guard udpQueuedBytes + payload.count <= RelayGateway.udpQueueByteLimit,
      udpDatagrams.append(
        RelayedUDPDatagram(
          flow: flow, hostDestination: hostDestination, payload: payload.copyToArray()))
    else {
      counters.udpDroppedQueueFull += 1
      return
    }
    udpQueuedBytes += payload.count
    counters.udpDatagramsRelayed += 1
  }
}
