import NetCore

/// What the IPv4 layer received, delivered, sent and dropped, by reason.
public struct IPv4Counters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "ipv4"

  public var packetsReceived: UInt64 = 0
  public var packetsDelivered: UInt64 = 0
  public var packetsSent: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadVersion: UInt64 = 0
  public var droppedBadHeaderLength: UInt64 = 0
  public var droppedBadChecksum: UInt64 = 0
  public var droppedBadOptions: UInt64 = 0
  /// A source that cannot be a host on the link: broadcast (limited or our subnet's), multicast,
  /// class E or loopback.
  public var droppedBadSource: UInt64 = 0
  /// Addressed to another host.
  public var droppedNotForUs: UInt64 = 0
  /// Received with a TTL of 0 or 1 (accepted anyway, RFC 1122 §3.2.1.7).
  public var receivedLowTTL: UInt64 = 0
  public var fragmentsReceived: UInt64 = 0
  public var datagramsReassembled: UInt64 = 0
  /// Fragments that overlapped another of the same datagram: the whole datagram was dropped.
  public var reassemblyOverlaps: UInt64 = 0
  /// Fragments with impossible offsets or lengths.
  public var reassemblyBadFragments: UInt64 = 0
  /// Datagrams whose fragments did not all arrive in time.
  public var reassemblyTimeouts: UInt64 = 0
  /// Partial datagrams evicted because the reassembly table was full.
  public var reassemblyEvictions: UInt64 = 0
  /// Fragments of a new datagram dropped because the memory budget had no room for it.
  public var reassemblyDroppedMemory: UInt64 = 0
  public var fragmentsSent: UInt64 = 0
  /// Nothing in the routing table covers the destination.
  public var sendNoRoute: UInt64 = 0
  /// Larger than the MTU with DF set, or larger than 65535 bytes.
  public var sendTooLarge: UInt64 = 0
  /// Datagrams to another host handed to the relay (``IPv4Layer/relaysOtherDestinations``).
  public var packetsRelayed: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("packets_received", packetsReceived)
    body("packets_delivered", packetsDelivered)
    body("packets_sent", packetsSent)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_version", droppedBadVersion)
    body("dropped_bad_header_length", droppedBadHeaderLength)
    body("dropped_bad_checksum", droppedBadChecksum)
    body("dropped_bad_options", droppedBadOptions)
    body("dropped_bad_source", droppedBadSource)
    body("dropped_not_for_us", droppedNotForUs)
    body("received_low_ttl", receivedLowTTL)
    body("fragments_received", fragmentsReceived)
    body("datagrams_reassembled", datagramsReassembled)
    body("reassembly_overlaps", reassemblyOverlaps)
    body("reassembly_bad_fragments", reassemblyBadFragments)
    body("reassembly_timeouts", reassemblyTimeouts)
    body("reassembly_evictions", reassemblyEvictions)
    body("reassembly_dropped_memory", reassemblyDroppedMemory)
    body("fragments_sent", fragmentsSent)
    body("send_no_route", sendNoRoute)
    body("send_too_large", sendTooLarge)
    body("packets_relayed", packetsRelayed)
  }
}

/// What ICMPv4 received and sent.
public struct ICMPv4Counters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "icmp"

  public var messagesReceived: UInt64 = 0
  public var echoRequestsReceived: UInt64 = 0
  public var echoRepliesSent: UInt64 = 0
  public var echoRequestsSent: UInt64 = 0
  public var echoRepliesReceived: UInt64 = 0
  public var errorsReceived: UInt64 = 0
  public var errorsSent: UInt64 = 0
  /// Errors not sent because of the rate limit.
  public var errorsRateLimited: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadChecksum: UInt64 = 0
  /// Echo requests to a broadcast or multicast address (ignored, as Linux does by default).
  public var droppedBroadcastEcho: UInt64 = 0
  /// Echo replies for which no one was waiting, or the reply queue was full.
  public var droppedUnclaimedReplies: UInt64 = 0
  /// Echo replies sent on behalf of another host, from a relay's answer.
  public var echoRepliesRelayed: UInt64 = 0
  /// Destination unreachable, fragmentation needed (RFC 1191 §4) received.
  public var fragmentationNeededReceived: UInt64 = 0
  /// Of those: a next-hop MTU below IPv4's minimum of 68 (RFC 791), zero from a router older
  /// than RFC 1191 included.
  public var droppedFragmentationNeededBelowMinimum: UInt64 = 0
  /// Of those: a quote too short to name a transport, or of a datagram we did not send.
  public var droppedUnmatchedErrors: UInt64 = 0
  /// Of those: the queue of reports for the transports (``IPv4Layer/pathMTUReports``) was full.
  public var droppedPathMTUReportsQueueFull: UInt64 = 0
  /// Destination unreachable other than fragmentation needed received (RFC 792); those
  /// quoting a datagram we did not send count in ``droppedUnmatchedErrors`` too.
  public var destinationUnreachableReceived: UInt64 = 0
  /// Of those: the queue of reports for the transports (``IPv4Layer/unreachableReports``) was
  /// full.
  public var droppedUnreachableReportsQueueFull: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("messages_received", messagesReceived)
    body("echo_requests_received", echoRequestsReceived)
    body("echo_replies_sent", echoRepliesSent)
    body("echo_requests_sent", echoRequestsSent)
    body("echo_replies_received", echoRepliesReceived)
    body("errors_received", errorsReceived)
    body("errors_sent", errorsSent)
    body("errors_rate_limited", errorsRateLimited)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_checksum", droppedBadChecksum)
    body("dropped_broadcast_echo", droppedBroadcastEcho)
    body("dropped_unclaimed_replies", droppedUnclaimedReplies)
    body("echo_replies_relayed", echoRepliesRelayed)
    body("fragmentation_needed_received", fragmentationNeededReceived)
    body("dropped_fragmentation_needed_below_minimum", droppedFragmentationNeededBelowMinimum)
    body("dropped_unmatched_errors", droppedUnmatchedErrors)
    body("dropped_path_mtu_reports_queue_full", droppedPathMTUReportsQueueFull)
    body("destination_unreachable_received", destinationUnreachableReceived)
    body("dropped_unreachable_reports_queue_full", droppedUnreachableReportsQueueFull)
  }
}
