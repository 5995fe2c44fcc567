import NetCore

/// A token bucket that limits how many ICMP error messages the stack sends (RFC 1812
/// §4.3.2.8, RFC 1122 §3.2.2: errors SHOULD be rate-limited). Linux allows 1000 per second
/// with bursts of 50; so does this by default.
public struct ICMPv4RateLimiter: Sendable {
  /// Messages allowed per second on average.
  public let ratePerSecond: Int64
  /// Messages allowed at once after a quiet period.
  public let burst: Int64
  private var tokens: Int64
  private var lastRefill: Instant?

  public init(ratePerSecond: Int64 = 1000, burst: Int64 = 50) {
    precondition(ratePerSecond > 0 && burst > 0)
    self.ratePerSecond = ratePerSecond
    self.burst = burst
    tokens = burst
  }

  /// Takes a token if one is left; returns whether a message may be sent now.
  public mutating func allow(now: Instant) -> Bool {
    if let lastRefill {
      let interval = Int64(1_000_000_000) / ratePerSecond
      let earned = (now - lastRefill).nanoseconds / interval
      if earned > 0 {
        tokens = min(burst, tokens + earned)
        self.lastRefill = lastRefill + Interval(nanoseconds: earned * interval)
      }
    } else {
      lastRefill = now
    }
    if tokens >= burst { lastRefill = now }
    guard tokens > 0 else { return false }
    tokens -= 1
    return true
  }
}
