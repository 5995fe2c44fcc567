/// A token bucket: a rate limit that allows bursts (RFC 2697 §3.1's metering idea; the rate
/// limit RFC 1812 §4.3.2.8 and RFC 1122 §3.2.2 ask of ICMP errors).
///
/// Tokens accrue one every `1 s / tokensPerSecond`, up to ``burst``; each thing allowed takes
/// one. The bucket starts full. Time is counted in whole token intervals, and what is left of
/// an interval carries over to the next call; while the bucket is full no time is banked, so
/// a quiet period never allows more than ``burst`` at once. Sans-IO: the caller passes `now`.
public struct TokenBucket: Sendable {
  /// Tokens earned per second on average.
  public let tokensPerSecond: Int64
  /// The most tokens the bucket holds: what may go at once after a quiet period.
  public let burst: Int64
  /// The time to earn one token.
  public let interval: Interval
  /// Tokens in the bucket.
  public private(set) var tokens: Int64
  /// When the tokens were last counted up (nil: never used).
  private var lastRefill: Instant?

  /// A full bucket. `tokensPerSecond` is between 1 and 10^9, `burst` at least 1.
  public init(tokensPerSecond: Int64, burst: Int64) {
    precondition(tokensPerSecond > 0 && tokensPerSecond <= 1_000_000_000 && burst > 0)
    self.tokensPerSecond = tokensPerSecond
    self.burst = burst
    interval = Interval(nanoseconds: 1_000_000_000 / tokensPerSecond)
    tokens = burst
  }

  /// Takes a token if one is left; returns whether the thing it pays for may happen now.
  public mutating func take(now: Instant) -> Bool {
    refill(now: now)
    guard tokens > 0 else { return false }
    tokens -= 1
    return true
  }

  /// Adds the tokens earned since the last refill, up to ``burst``.
  private mutating func refill(now: Instant) {
    if let lastRefill {
      let earned = (now - lastRefill).nanoseconds / interval.nanoseconds
      if earned > 0 {
        tokens = min(burst, tokens + earned)
        self.lastRefill = lastRefill + interval * earned
      }
    } else {
      lastRefill = now
    }
    if tokens >= burst { lastRefill = now }
  }
}
