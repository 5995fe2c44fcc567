import IPv4
import NetCore

/// What all connections of one TCP layer share: the counters and the rate limit on
/// challenge ACKs (RFC 5961 §7, which must be global to be a limit at all).
public final class TCPSharedState {
  public var counters = TCPCounters()
  /// At most 1000 challenge ACKs per second, bursts of 100 (Linux: tcp_challenge_ack_limit).
  var challengeAckLimiter = ICMPv4RateLimiter(ratePerSecond: 1000, burst: 100)

  public init() {}
}
