import NetCore

/// Limits, buffer sizes and timers of a TCP layer; the defaults follow Linux where RFCs leave
/// a choice.
public struct TCPConfiguration: Sendable {
  /// The largest receive buffer of a connection: the largest window advertised (scaled,
  /// RFC 7323). A connection starts smaller and grows towards it as its application reads
  /// (receive-buffer moderation).
  public var receiveBufferSize = 4 << 20
  /// A fixed receive buffer instead of one that starts small and grows (tests that want a
  /// known window); nil for moderation.
  public var initialReceiveBufferSize: Int? = nil
  /// The largest send buffer of a connection: unacknowledged data the application can queue.
  /// A connection holds what may be in flight plus ``minimumSendBuffer``.
  public var sendBufferSize = 4 << 20
  /// The backlog a connection's send buffer holds beyond what may be in flight (Linux
  /// `tcp_wmem[0]`, 4 KiB).
  public var minimumSendBuffer = 4096
  /// How long data may wait for the peer's acknowledgment, whether the peer is silent or keeps
  /// its window shut, before the connection is aborted (RFC 9293 §3.8.3 "user timeout", RFC
  /// 5482; RFC 793's default of five minutes); nil for none.
  public var userTimeout: Interval? = .seconds(300)
  /// The congestion-control algorithm of new connections.
  public var congestionAlgorithm = CongestionAlgorithm.cubic
  /// Nagle's algorithm (RFC 9293 §3.7.4) on new connections; `setNoDelay` turns it off.
  public var nagle = true
  /// How long an acknowledgment may be delayed (RFC 1122 §4.2.3.2: under 0.5 s; Linux's
  /// minimum is 40 ms).
  public var delayedAcknowledgmentTimeout = Interval.milliseconds(40)
  /// Whether to offer and use SACK (RFC 2018).
  public var selectiveAcknowledgments = true
  /// Whether to offer and use timestamps (RFC 7323).
  public var timestamps = true
  /// Whether to offer window scaling (RFC 7323).
  public var windowScaling = true
  /// SYN retransmissions before an active open gives up (Linux tcp_syn_retries).
  public var synRetries = 6
  /// SYN-ACK retransmissions before a half-open connection is dropped (tcp_synack_retries).
  public var synAckRetries = 5
  /// Data retransmissions before a connection is declared dead (tcp_retries2).
  public var dataRetries = 15
  /// Minimum retransmission timeout.
  public var minimumRetransmissionTimeout = Interval.milliseconds(200)
  /// Maximum retransmission timeout.
  public var maximumRetransmissionTimeout = Interval.seconds(60)
  /// How long a connection stays in TIME-WAIT: 2 × MSL (Linux: 60 s).
  public var timeWaitDuration = Interval.seconds(60)
  /// How long an orphaned connection waits in FIN-WAIT-2 for the peer's FIN (tcp_fin_timeout).
  public var finWait2Timeout = Interval.seconds(60)
  /// Keepalive on new connections (off by default, RFC 1122 §4.2.3.6).
  public var keepalive: TCPKeepalive? = nil
  /// The most connections (in any state but TIME-WAIT).
  public var maximumConnections = 65536
  /// The most connections held in TIME-WAIT; past it the oldest is forgotten.
  public var maximumTimeWait = 65536
  /// Half-open connections per listener before SYN cookies are used.
  public var synBacklog = 1024
  /// Whether to answer SYNs with cookies when the SYN backlog is full (RFC 4987 §3.6).
  public var synCookies = true
  /// Ports handed out for active opens (IANA's dynamic range).
  public var ephemeralPorts: ClosedRange<UInt16> = 49152...65535

  public init() {}
}

/// Keepalive settings (RFC 1122 §4.2.3.6; Linux defaults 7200 s, 75 s, 9 probes).
public struct TCPKeepalive: Equatable, Sendable {
  /// Idle time before the first probe.
  public var idle: Interval
  /// Time between unanswered probes.
  public var interval: Interval
  /// Unanswered probes before the connection is dropped.
  public var probes: Int

  public init(idle: Interval = .seconds(7200), interval: Interval = .seconds(75), probes: Int = 9) {
    self.idle = idle
    self.interval = interval
    self.probes = probes
  }
}
