import NetCore

/// The limit on how many ICMPv6 error messages the stack originates (RFC 4443 §2.4 f: "MUST
/// limit the rate of ICMPv6 error messages it originates", a token bucket suggested): a
/// `TokenBucket` (NetCore) with Linux's defaults, 1000 a second in bursts of up to 50.
public struct ICMPv6ErrorRateLimiter: Sendable {
  private var bucket: TokenBucket

  /// Messages allowed per second on average.
  public var ratePerSecond: Int64 { bucket.tokensPerSecond }
  /// Messages allowed at once after a quiet period.
  public var burst: Int64 { bucket.burst }

  public init(ratePerSecond: Int64 = 1000, burst: Int64 = 50) {
    bucket = TokenBucket(tokensPerSecond: ratePerSecond, burst: burst)
  }

  /// Takes a token if one is left; returns whether a message may be sent now.
  public mutating func allow(now: Instant) -> Bool { bucket.take(now: now) }
}
