import NetCore

/// What TCP received, sent and dropped, and how its connections fared.
public struct TCPCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "tcp"

  public var segmentsReceived: UInt64 = 0
  public var segmentsSent: UInt64 = 0
  public var segmentsRetransmitted: UInt64 = 0
  public var activeOpens: UInt64 = 0
  public var passiveOpens: UInt64 = 0
  public var connectionsEstablished: UInt64 = 0
  public var connectionsClosed: UInt64 = 0
  public var connectionsReset: UInt64 = 0
  public var connectionsTimedOut: UInt64 = 0
  public var resetsSent: UInt64 = 0
  public var resetsReceived: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadHeader: UInt64 = 0
  public var droppedBadChecksum: UInt64 = 0
  /// Segments outside the receive window, or failing PAWS (answered with an ACK).
  public var droppedOutOfWindow: UInt64 = 0
  public var droppedPAWS: UInt64 = 0
  /// Out-of-order segments that would have needed too many ranges.
  public var droppedOutOfOrderLimit: UInt64 = 0
  /// Challenge ACKs sent for in-window RST or SYN (RFC 5961).
  public var challengeAcks: UInt64 = 0
  /// Challenge ACKs not sent: the connection's or the host-wide limit was reached.
  public var challengeAcksLimited: UInt64 = 0
  /// Segments to a port nobody listens on (answered with RST).
  public var segmentsToClosedPort: UInt64 = 0
  /// SYNs dropped because a listener's accept queue was full or the table was full.
  public var listenOverflows: UInt64 = 0
  public var synCookiesSent: UInt64 = 0
  public var synCookiesAccepted: UInt64 = 0
  public var synCookiesRejected: UInt64 = 0
  public var timeWaitReused: UInt64 = 0
  /// TIME-WAIT entries forgotten early because the table was full.
  public var timeWaitOverflows: UInt64 = 0
  public var fastRetransmits: UInt64 = 0
  public var retransmissionTimeouts: UInt64 = 0
  public var outOfOrderSegments: UInt64 = 0
  public var zeroWindowProbes: UInt64 = 0
  public var keepaliveProbes: UInt64 = 0
  /// Segments the network layer refused (no route).
  public var sendErrors: UInt64 = 0
  /// Connections aborted because the peer acknowledged nothing, or kept its window shut, for
  /// the user timeout (RFC 5482).
  public var userTimeouts: UInt64 = 0
  /// Times a connection's receive buffer grew (receive-buffer moderation).
  public var receiveBufferGrowths: UInt64 = 0

  // Memory pressure (the stack's MemoryBudget; Linux's tcp_mem).
  /// Times a receive buffer would have grown but the stack was under memory pressure.
  public var windowGrowthRefused: UInt64 = 0
  /// Windows advertised smaller than the buffer allowed, because of memory pressure.
  public var windowsClampedByPressure: UInt64 = 0
  /// Out-of-order segments dropped on arrival because of memory pressure.
  public var droppedOutOfOrderPressure: UInt64 = 0
  /// Out-of-order bytes already held that were dropped to relieve memory pressure.
  public var outOfOrderBytesPruned: UInt64 = 0
  /// In-order segments (or parts of them) dropped because the memory budget was spent.
  public var droppedMemoryLimit: UInt64 = 0
  /// New connections refused (SYN dropped, or connect failed) because memory was short.
  public var connectionsRefusedMemory: UInt64 = 0
  /// Times memory pressure shrank buffers (a reclaim pass over the connections).
  public var memoryReclaims: UInt64 = 0
  /// Connections that cut their segments to a smaller path MTU (RFC 8201 §5.2).
  public var pathMTUDecreases: UInt64 = 0
  /// Path MTU reports (IPv4 "fragmentation needed", ICMPv6 packet too big) ignored: the
  /// quoted segment named no connection of ours, or a sequence number outside what it has in
  /// flight (RFC 5927 §4.1).
  public var pathMTUReportsIgnored: UInt64 = 0
  /// Connections in SYN-SENT aborted with "connection refused" by a hard ICMP error about
  /// their SYN (port or protocol unreachable; RFC 1122 §4.2.3.9, RFC 5461 §4).
  public var connectionsRefusedByICMP: UInt64 = 0
  /// Soft ICMP errors (destination unreachable other than the hard ones, or any about an
  /// established connection) recorded as a connection's last error, not aborting it.
  public var icmpSoftErrors: UInt64 = 0
  /// ICMP destination unreachable reports ignored: the quoted segment named no connection of
  /// ours, or a sequence number outside what it has in flight (RFC 5927 §4.1).
  public var icmpUnreachablesIgnored: UInt64 = 0

  // Payload copies (issue 15: one copy each way). Received bytes are copied once, from the
  // segment into the receive buffer; the application then reads them in place (consume,
  // discard) or copies them out into a buffer of its own (read). Sent bytes are copied once,
  // from the send buffer into a segment; the application's writes put them there by a copy,
  // by holding its array, or by writing straight into the buffer's space.
  /// Payload bytes copied from received segments into receive buffers (in order or not).
  public var receiveBytesCopiedIn: UInt64 = 0
  /// Bytes copied again inside a receive buffer: out-of-order data moved in order once the
  /// gap before it filled.
  public var receiveBytesReordered: UInt64 = 0
  /// Bytes the application took in place from receive buffers (consume, discard): no copy.
  public var receiveBytesTakenInPlace: UInt64 = 0
  /// Bytes copied out of receive buffers into the application's own buffers (read).
  public var receiveBytesCopiedOut: UInt64 = 0
  /// Bytes the application's writes copied into send buffers.
  public var sendBytesCopiedIn: UInt64 = 0
  /// Bytes of the application's arrays kept by send buffers without a copy.
  public var sendBytesHeld: UInt64 = 0
  /// Bytes the application wrote straight into send buffers' space (no copy by the stack).
  public var sendBytesFilledInPlace: UInt64 = 0
  /// Payload bytes copied from send buffers into segments (retransmissions included).
  public var sendBytesCopiedOut: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("segments_received", segmentsReceived)
    body("segments_sent", segmentsSent)
    body("segments_retransmitted", segmentsRetransmitted)
    body("active_opens", activeOpens)
    body("passive_opens", passiveOpens)
    body("connections_established", connectionsEstablished)
    body("connections_closed", connectionsClosed)
    body("connections_reset", connectionsReset)
    body("connections_timed_out", connectionsTimedOut)
    body("resets_sent", resetsSent)
    body("resets_received", resetsReceived)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_header", droppedBadHeader)
    body("dropped_bad_checksum", droppedBadChecksum)
    body("dropped_out_of_window", droppedOutOfWindow)
    body("dropped_paws", droppedPAWS)
    body("dropped_out_of_order_limit", droppedOutOfOrderLimit)
    body("challenge_acks", challengeAcks)
    body("challenge_acks_limited", challengeAcksLimited)
    body("segments_to_closed_port", segmentsToClosedPort)
    body("listen_overflows", listenOverflows)
    body("syn_cookies_sent", synCookiesSent)
    body("syn_cookies_accepted", synCookiesAccepted)
    body("syn_cookies_rejected", synCookiesRejected)
    body("time_wait_reused", timeWaitReused)
    body("time_wait_overflows", timeWaitOverflows)
    body("fast_retransmits", fastRetransmits)
    body("retransmission_timeouts", retransmissionTimeouts)
    body("out_of_order_segments", outOfOrderSegments)
    body("zero_window_probes", zeroWindowProbes)
    body("keepalive_probes", keepaliveProbes)
    body("send_errors", sendErrors)
    body("user_timeouts", userTimeouts)
    body("receive_buffer_growths", receiveBufferGrowths)
    body("window_growth_refused", windowGrowthRefused)
    body("windows_clamped_by_pressure", windowsClampedByPressure)
    body("dropped_out_of_order_pressure", droppedOutOfOrderPressure)
    body("out_of_order_bytes_pruned", outOfOrderBytesPruned)
    body("dropped_memory_limit", droppedMemoryLimit)
    body("connections_refused_memory", connectionsRefusedMemory)
    body("memory_reclaims", memoryReclaims)
    body("path_mtu_decreases", pathMTUDecreases)
    body("path_mtu_reports_ignored", pathMTUReportsIgnored)
    body("connections_refused_by_icmp", connectionsRefusedByICMP)
    body("icmp_soft_errors", icmpSoftErrors)
    body("icmp_unreachables_ignored", icmpUnreachablesIgnored)
    body("receive_bytes_copied_in", receiveBytesCopiedIn)
    body("receive_bytes_reordered", receiveBytesReordered)
    body("receive_bytes_taken_in_place", receiveBytesTakenInPlace)
    body("receive_bytes_copied_out", receiveBytesCopiedOut)
    body("send_bytes_copied_in", sendBytesCopiedIn)
    body("send_bytes_held", sendBytesHeld)
    body("send_bytes_filled_in_place", sendBytesFilledInPlace)
    body("send_bytes_copied_out", sendBytesCopiedOut)
  }
}
