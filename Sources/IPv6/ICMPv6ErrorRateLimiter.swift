import NetCore

/// A token bucket that limits how many ICMPv6 error messages the stack sends (RFC 4443 §2.4 f:
/// "MUST limit the rate of ICMPv6 error messages it originates"; §2.4 f suggests a token
/// bucket). By default 1000 a second with bursts of 50, as Linux allows ICMP in all.
///
/// Written here, and no bigger than the layer needs, until a shared token bucket lands in
/// NetCore; it is the only rate limiter of the module, so swapping it is one file.
public struct ICMPv6ErrorRateLimiter: Sendable {
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
    let interval = Int64(1_000_000_000) / ratePerSecond
    if let lastRefill {
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
