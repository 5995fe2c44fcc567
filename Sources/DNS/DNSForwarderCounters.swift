import NetCore

/// What the DNS forwarder received, sent upstream, answered and dropped.
public struct DNSForwarderCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "dns"

  /// Queries taken from guests over UDP (malformed ones and repeats included; those dropped
  /// for their size or as responses not).
  public var queriesUDP: UInt64 = 0
  /// Queries taken from guests over TCP.
  public var queriesTCP: UInt64 = 0
  /// Upstream answers relayed to a guest.
  public var answers: UInt64 = 0
  /// Answers too large for the guest's UDP size, sent as a truncated response instead.
  public var answersTruncatedForGuest: UInt64 = 0
  /// Upstream queries sent over UDP (every try).
  public var upstreamUDPQueries: UInt64 = 0
  /// Upstream queries sent over TCP.
  public var upstreamTCPQueries: UInt64 = 0
  /// Tries that got no answer in time.
  public var timeouts: UInt64 = 0
  /// Tries that failed at once: a socket that could not be opened, a send or connect that
  /// failed, an ICMP error, a TCP connection that closed before the answer.
  public var upstreamFailures: UInt64 = 0
  /// Truncated UDP answers asked again over TCP.
  public var truncatedRetries: UInt64 = 0
  /// SERVFAIL, REFUSED or NOTIMP from a server, asked again of the next one.
  public var serverErrorsRetried: UInt64 = 0
  /// Upstream messages dropped: not on a socket waiting for one, from another address or
  /// port, with another id, question or opcode, not a response, malformed or too large.
  public var mismatchedAnswersDropped: UInt64 = 0
  /// SERVFAIL sent to guests (all tries failed, no name servers, no room).
  public var servfailsSent: UInt64 = 0
  /// SERVFAIL sent because no name server is configured (also counted in `servfailsSent`).
  public var noServers: UInt64 = 0
  /// SERVFAIL sent because ``DNSForwarderConfiguration/maximumPendingQueries`` queries were
  /// waiting (also in `servfailsSent`).
  public var pendingOverflows: UInt64 = 0
  /// SERVFAIL sent for a guest connection's query beyond
  /// ``DNSForwarderConfiguration/maximumQueriesPerConnection`` (also in `servfailsSent`).
  public var connectionQueryOverflows: UInt64 = 0
  /// TCP queries refused SERVFAIL, or truncated answers passed on, for want of an upstream TCP
  /// connection (``DNSForwarderConfiguration/maximumUpstreamTCP``).
  public var upstreamTCPLimited: UInt64 = 0
  /// FORMERR sent: a query with a good header that did not parse, or not one question.
  public var formerrsSent: UInt64 = 0
  /// NOTIMP sent: an opcode other than QUERY.
  public var notimpsSent: UInt64 = 0
  /// REFUSED sent: zone transfers (AXFR, IXFR), which take more than one answer.
  public var refusedSent: UInt64 = 0
  /// Guest messages dropped unanswered: shorter than a header, or a response.
  public var droppedMalformed: UInt64 = 0
  /// Guest UDP queries dropped for their size (over 512 bytes without EDNS, over 4096 with).
  public var droppedOversized: UInt64 = 0
  /// Guest UDP queries dropped as a repeat of one still waiting (same source, id, question).
  public var droppedDuplicate: UInt64 = 0
  /// Guest connections closed at once for want of room.
  public var guestConnectionsRefused: UInt64 = 0
  /// Guest connections closed when idle.
  public var guestConnectionsTimedOut: UInt64 = 0
  /// Guest connections closed for a zero or too large length prefix.
  public var guestStreamErrors: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("queries_udp", queriesUDP)
    body("queries_tcp", queriesTCP)
    body("answers", answers)
    body("answers_truncated_for_guest", answersTruncatedForGuest)
    body("upstream_udp_queries", upstreamUDPQueries)
    body("upstream_tcp_queries", upstreamTCPQueries)
    body("timeouts", timeouts)
    body("upstream_failures", upstreamFailures)
    body("truncated_retries", truncatedRetries)
    body("server_errors_retried", serverErrorsRetried)
    body("mismatched_answers_dropped", mismatchedAnswersDropped)
    body("servfails_sent", servfailsSent)
    body("no_servers", noServers)
    body("pending_overflows", pendingOverflows)
    body("connection_query_overflows", connectionQueryOverflows)
    body("upstream_tcp_limited", upstreamTCPLimited)
    body("formerrs_sent", formerrsSent)
    body("notimps_sent", notimpsSent)
    body("refused_sent", refusedSent)
    body("dropped_malformed", droppedMalformed)
    body("dropped_oversized", droppedOversized)
    body("dropped_duplicate", droppedDuplicate)
    body("guest_connections_refused", guestConnectionsRefused)
    body("guest_connections_timed_out", guestConnectionsTimedOut)
    body("guest_stream_errors", guestStreamErrors)
  }
}
