import NetCore

/// What the IPv6 layer received, delivered, sent and dropped, by reason.
public struct IPv6Counters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "ipv6"

  public var packetsReceived: UInt64 = 0
  public var packetsDelivered: UInt64 = 0
  /// Packets to another host handed to the relay (``IPv6Layer/relaysOtherDestinations``).
  public var packetsRelayed: UInt64 = 0
  public var packetsSent: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadVersion: UInt64 = 0
  /// A source that cannot be a host (multicast, loopback, IPv4-mapped), or a destination no
  /// packet may have (unspecified, loopback, IPv4-mapped).
  public var droppedBadAddress: UInt64 = 0
  /// Addressed to another host, a group we do not listen to, or a tentative address.
  public var droppedNotForUs: UInt64 = 0
  /// Extension headers running past the packet.
  public var droppedTruncatedExtensionHeader: UInt64 = 0
  /// Options with bad lengths, too much padding, or too many options.
  public var droppedBadOptions: UInt64 = 0
  /// Options this stack does not know, whose type says to discard (RFC 8200 §4.2).
  public var droppedUnrecognizedOption: UInt64 = 0
  /// More extension headers, or more bytes of them, than the limits allow.
  public var droppedExtensionChainTooLong: UInt64 = 0
  /// Hop-by-hop options after the first position.
  public var droppedHopByHopNotFirst: UInt64 = 0
  /// Routing headers with segments left (type 0 among them, RFC 5095).
  public var droppedRoutingHeader: UInt64 = 0
  /// Upper layers this stack does not serve (answered with parameter problem code 1).
  public var droppedUnknownNextHeader: UInt64 = 0
  /// Packets whose chain ended with No Next Header.
  public var receivedNoNextHeader: UInt64 = 0
  public var fragmentsReceived: UInt64 = 0
  /// Fragments with offset 0 and no more fragments, processed on their own (RFC 6946).
  public var atomicFragmentsReceived: UInt64 = 0
  public var packetsReassembled: UInt64 = 0
  /// Fragments that overlapped another of the same packet: the packet was dropped.
  public var reassemblyOverlaps: UInt64 = 0
  /// Fragments with impossible offsets or lengths (with or without a parameter problem).
  public var reassemblyBadFragments: UInt64 = 0
  /// First fragments without the whole header chain (RFC 7112).
  public var reassemblyIncompleteChains: UInt64 = 0
  /// Packets whose fragments did not all arrive in time.
  public var reassemblyTimeouts: UInt64 = 0
  /// Partial packets evicted for newer ones or for room.
  public var reassemblyEvictions: UInt64 = 0
  /// Fragments dropped for want of room (the byte bound or the memory budget).
  public var reassemblyDroppedMemory: UInt64 = 0
  public var fragmentsSent: UInt64 = 0
  /// No on-link prefix, redirect or default router covers the destination.
  public var sendNoRoute: UInt64 = 0
  /// No usable source address for the destination.
  public var sendNoSourceAddress: UInt64 = 0
  /// Packets not sent because their destination was an IPv4-mapped address (::ffff:0:0/96),
  /// which must never appear on the wire (RFC 4038 §4.2, RFC 4942 §2.2).
  public var sendIPv4Mapped: UInt64 = 0
  /// Larger than the path MTU with fragmentation refused, or than 65,535 bytes.
  public var sendTooLarge: UInt64 = 0
  /// Packets dropped while waiting for a neighbour (queue full, budget, or no answer).
  public var sendNeighbourDropped: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("packets_received", packetsReceived)
    body("packets_delivered", packetsDelivered)
    body("packets_relayed", packetsRelayed)
    body("packets_sent", packetsSent)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_version", droppedBadVersion)
    body("dropped_bad_address", droppedBadAddress)
    body("dropped_not_for_us", droppedNotForUs)
    body("dropped_truncated_extension_header", droppedTruncatedExtensionHeader)
    body("dropped_bad_options", droppedBadOptions)
    body("dropped_unrecognized_option", droppedUnrecognizedOption)
    body("dropped_extension_chain_too_long", droppedExtensionChainTooLong)
    body("dropped_hop_by_hop_not_first", droppedHopByHopNotFirst)
    body("dropped_routing_header", droppedRoutingHeader)
    body("dropped_unknown_next_header", droppedUnknownNextHeader)
    body("received_no_next_header", receivedNoNextHeader)
    body("fragments_received", fragmentsReceived)
    body("atomic_fragments_received", atomicFragmentsReceived)
    body("packets_reassembled", packetsReassembled)
    body("reassembly_overlaps", reassemblyOverlaps)
    body("reassembly_bad_fragments", reassemblyBadFragments)
    body("reassembly_incomplete_chains", reassemblyIncompleteChains)
    body("reassembly_timeouts", reassemblyTimeouts)
    body("reassembly_evictions", reassemblyEvictions)
    body("reassembly_dropped_memory", reassemblyDroppedMemory)
    body("fragments_sent", fragmentsSent)
    body("send_no_route", sendNoRoute)
    body("send_ipv4_mapped", sendIPv4Mapped)
    body("send_no_source_address", sendNoSourceAddress)
    body("send_too_large", sendTooLarge)
    body("send_neighbour_dropped", sendNeighbourDropped)
  }
}

/// What ICMPv6 (RFC 4443) and MLD (RFC 3810) received and sent.
public struct ICMPv6Counters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "icmpv6"

  public var messagesReceived: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadChecksum: UInt64 = 0
  public var echoRequestsReceived: UInt64 = 0
  public var echoRepliesSent: UInt64 = 0
  public var echoRequestsSent: UInt64 = 0
  public var echoRepliesReceived: UInt64 = 0
  /// Echo requests not answered: from the unspecified address, or to a group when multicast
  /// echo is off.
  public var droppedEchoRequests: UInt64 = 0
  /// Echo replies for which no one was waiting, or the reply queue was full.
  public var droppedUnclaimedReplies: UInt64 = 0
  public var errorsReceived: UInt64 = 0
  /// Errors about packets we did not send (the quoted source is not ours), or too short.
  public var droppedUnmatchedErrors: UInt64 = 0
  public var packetTooBigReceived: UInt64 = 0
  /// Packet too big reporting less than 1280 bytes (RFC 8201 §4: discarded).
  public var droppedPacketTooBigBelowMinimum: UInt64 = 0
  /// Times a path MTU estimate went down.
  public var pathMTUsLowered: UInt64 = 0
  /// Path MTU estimates dropped for newer ones because the cache was full.
  public var pathMTUEvictions: UInt64 = 0
  public var errorsSent: UInt64 = 0
  /// Errors not sent because of the rate limit.
  public var errorsRateLimited: UInt64 = 0
  /// Errors not sent because RFC 4443 §2.4 (e) forbids them (about an error, to a group, ...).
  public var errorsSuppressed: UInt64 = 0
  /// Messages of types this stack does not act on.
  public var unhandledMessages: UInt64 = 0
  public var mldQueriesReceived: UInt64 = 0
  public var mldReportsSent: UInt64 = 0
  /// Queries that failed validation.
  public var droppedInvalidMLD: UInt64 = 0
  /// Groups not joined because the listener's table or the link's multicast filter was full
  /// (all-nodes included: what is sent to that group may then not arrive).
  public var mldGroupsRefused: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("messages_received", messagesReceived)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_checksum", droppedBadChecksum)
    body("echo_requests_received", echoRequestsReceived)
    body("echo_replies_sent", echoRepliesSent)
    body("echo_requests_sent", echoRequestsSent)
    body("echo_replies_received", echoRepliesReceived)
    body("dropped_echo_requests", droppedEchoRequests)
    body("dropped_unclaimed_replies", droppedUnclaimedReplies)
    body("errors_received", errorsReceived)
    body("dropped_unmatched_errors", droppedUnmatchedErrors)
    body("packet_too_big_received", packetTooBigReceived)
    body("dropped_packet_too_big_below_minimum", droppedPacketTooBigBelowMinimum)
    body("path_mtus_lowered", pathMTUsLowered)
    body("path_mtu_evictions", pathMTUEvictions)
    body("errors_sent", errorsSent)
    body("errors_rate_limited", errorsRateLimited)
    body("errors_suppressed", errorsSuppressed)
    body("unhandled_messages", unhandledMessages)
    body("mld_queries_received", mldQueriesReceived)
    body("mld_reports_sent", mldReportsSent)
    body("dropped_invalid_mld", droppedInvalidMLD)
    body("mld_groups_refused", mldGroupsRefused)
  }
}

/// What neighbour discovery (RFC 4861) and address configuration (RFC 4862) did.
public struct NDPCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "ndp"

  public var routerSolicitationsSent: UInt64 = 0
  /// Router solicitations received (a host ignores them, RFC 4861 §6.1.1).
  public var routerSolicitationsReceived: UInt64 = 0
  public var routerAdvertisementsReceived: UInt64 = 0
  public var neighbourSolicitationsReceived: UInt64 = 0
  public var neighbourSolicitationsSent: UInt64 = 0
  public var neighbourAdvertisementsReceived: UInt64 = 0
  public var neighbourAdvertisementsSent: UInt64 = 0
  public var redirectsReceived: UInt64 = 0
  /// Redirects not from the current first hop of their destination (RFC 4861 §8.1).
  public var droppedRedirects: UInt64 = 0
  /// Messages that failed validation, by reason.
  public var droppedHopLimit: UInt64 = 0
  public var droppedBadLength: UInt64 = 0
  public var droppedBadOptions: UInt64 = 0
  public var droppedBadAddresses: UInt64 = 0
  /// Solicitations for addresses that are not ours.
  public var solicitationsNotForUs: UInt64 = 0
  /// Our own detection solicitations seen again (a looped-back link, RFC 7527).
  public var detectionLoopedBack: UInt64 = 0
  /// Tentative addresses found duplicate (RFC 4862 §5.4.5).
  public var duplicateAddresses: UInt64 = 0
  /// Advertisements from another node of an address we use.
  public var addressConflicts: UInt64 = 0
  /// Addresses that did not answer our solicitations.
  public var resolutionFailures: UInt64 = 0
  /// Packets dropped because a neighbour's queue was full or the budget had no room.
  public var pendingOverflow: UInt64 = 0
  /// Packets dropped because their neighbour did not answer or was evicted.
  public var pendingTimedOut: UInt64 = 0
  public var cacheEvictions: UInt64 = 0
  /// Routers, prefixes, DNS servers and addresses refused because their list was full.
  public var routersRefused: UInt64 = 0
  public var prefixesRefused: UInt64 = 0
  public var dnsServersRefused: UInt64 = 0
  public var addressesRefused: UInt64 = 0
  /// Router advertisement MTU options outside 1280 and the link's MTU.
  public var mtuOptionsIgnored: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("router_solicitations_sent", routerSolicitationsSent)
    body("router_solicitations_received", routerSolicitationsReceived)
    body("router_advertisements_received", routerAdvertisementsReceived)
    body("neighbour_solicitations_received", neighbourSolicitationsReceived)
    body("neighbour_solicitations_sent", neighbourSolicitationsSent)
    body("neighbour_advertisements_received", neighbourAdvertisementsReceived)
    body("neighbour_advertisements_sent", neighbourAdvertisementsSent)
    body("redirects_received", redirectsReceived)
    body("dropped_redirects", droppedRedirects)
    body("dropped_hop_limit", droppedHopLimit)
    body("dropped_bad_length", droppedBadLength)
    body("dropped_bad_options", droppedBadOptions)
    body("dropped_bad_addresses", droppedBadAddresses)
    body("solicitations_not_for_us", solicitationsNotForUs)
    body("detection_looped_back", detectionLoopedBack)
    body("duplicate_addresses", duplicateAddresses)
    body("address_conflicts", addressConflicts)
    body("resolution_failures", resolutionFailures)
    body("pending_overflow", pendingOverflow)
    body("pending_timed_out", pendingTimedOut)
    body("cache_evictions", cacheEvictions)
    body("routers_refused", routersRefused)
    body("prefixes_refused", prefixesRefused)
    body("dns_servers_refused", dnsServersRefused)
    body("addresses_refused", addressesRefused)
    body("mtu_options_ignored", mtuOptionsIgnored)
  }
}
