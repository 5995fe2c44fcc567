import NetCore

/// The bounds and timings of a ``DNSForwarder``.
///
/// The name servers and their timeout and attempts usually come from `resolv.conf` (see
/// ``DNSForwarder/setServers(_:timeout:attempts:)``); the rest bounds what guests can make the
/// forwarder hold.
public struct DNSForwarderConfiguration: Sendable {
  /// How long one try waits for its answer (resolv.conf `timeout:`, glibc's default 5 s).
  public var timeout = Interval.seconds(5)
  /// Rounds over the name servers (resolv.conf `attempts:`, glibc's default 2).
  public var attempts = 2
  /// Queries waiting for an upstream answer at once; a query beyond gets SERVFAIL.
  public var maximumPendingQueries = 1024
  /// Upstream TCP connections at once (each may hold a 64 KiB answer); a truncated answer
  /// beyond it is passed on truncated, a TCP query beyond gets SERVFAIL.
  public var maximumUpstreamTCP = 64
  /// Guest TCP connections tracked at once; one beyond is closed at once.
  public var maximumGuestConnections = 256
  /// Queries of one guest connection waiting at once; one beyond gets SERVFAIL.
  public var maximumQueriesPerConnection = 16
  /// How long a guest connection may stay without a query waiting and without a whole new
  /// query before it is closed (RFC 7766 §6.2.3).
  public var guestConnectionIdleTimeout = Interval.seconds(10)
  /// The UDP payload size the forwarder offers in its own OPT records and takes from
  /// upstream (RFC 6891 §6.2.5); also the largest UDP query taken from a guest with EDNS.
  public var maximumUDPMessage = 4096

  public init() {}

  /// The largest UDP message without EDNS (RFC 1035 §4.2.1).
  public static let classicUDPMessage = 512
  /// The largest message over TCP (RFC 1035 §4.2.2).
  public static let maximumTCPMessage = 65535
}
