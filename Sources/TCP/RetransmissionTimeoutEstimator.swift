import NetCore

/// The retransmission timeout of RFC 6298: smoothed round-trip time and its variation from
/// samples (§2), a lower bound (Linux's 200 ms rather than the RFC's conservative 1 s, as
/// every major stack does), an upper bound, and exponential backoff (§5.5).
///
/// Samples come only from segments that were not retransmitted (Karn's algorithm, §3), or
/// from timestamps (RFC 7323 §4), which are unambiguous.
public struct RetransmissionTimeoutEstimator: Sendable {
  public var minimum = Interval.milliseconds(200)
  public var maximum = Interval.seconds(60)
  /// The timeout before any sample (RFC 6298 §2.1).
  public var initial = Interval.seconds(1)
  /// Clock granularity G.
  public var granularity = Interval.milliseconds(1)

  /// SRTT, once there is a sample.
  public private(set) var smoothedRoundTripTime: Interval?
  /// RTTVAR.
  public private(set) var roundTripTimeVariation = Interval.zero
  /// Times the timer has expired without an acknowledgment in between.
  public private(set) var backoff = 0

  public init() {}

  /// The base timeout, without backoff.
  public var baseTimeout: Interval {
    guard let smoothed = smoothedRoundTripTime else { return initial }
    let timeout = smoothed + max(granularity, roundTripTimeVariation * 4)
    return min(max(timeout, minimum), maximum)
  }

  /// The timeout to arm now: the base doubled once per backoff, at most `maximum`.
  public var timeout: Interval {
    var timeout = baseTimeout
    for _ in 0..<backoff {
      timeout = timeout * 2
      if timeout >= maximum { return maximum }
    }
    return timeout
  }

  /// Takes a round-trip time measurement (RFC 6298 §2.2–2.3, α = 1/8, β = 1/4).
  public mutating func addSample(_ sample: Interval) {
    let rtt = max(sample, .zero)
    if let smoothed = smoothedRoundTripTime {
      let difference = smoothed > rtt ? smoothed - rtt : rtt - smoothed
      roundTripTimeVariation = (roundTripTimeVariation * 3 + difference) / 4
      smoothedRoundTripTime = (smoothed * 7 + rtt) / 8
    } else {
      smoothedRoundTripTime = rtt
      roundTripTimeVariation = rtt / 2
    }
  }

  /// The timer expired: back off (§5.5).
  public mutating func timerExpired() { backoff = min(backoff + 1, 16) }

  /// New data was acknowledged: the backoff ends (§5.7's "the RTO ... may be reset").
  public mutating func acknowledged() { backoff = 0 }
}
