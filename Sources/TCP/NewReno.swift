import NetCore

/// Standard TCP congestion control (RFC 5681) with NewReno's recovery (RFC 6582): slow start
/// with appropriate byte counting (RFC 3465, L = 2), congestion avoidance adding one segment
/// per window, halving on loss.
public struct NewReno: CongestionControl {
  public private(set) var congestionWindow: Int
  public private(set) var slowStartThreshold = Int.max
  /// Bytes acknowledged in congestion avoidance since cwnd last grew.
  private var bytesAcknowledged = 0

  public init(maximumSegmentSize: Int) {
    congestionWindow = initialCongestionWindow(maximumSegmentSize: maximumSegmentSize)
  }

  public mutating func acknowledged(
    bytes: Int, maximumSegmentSize mss: Int, rtt: Interval?, now: Instant
  ) {
    if congestionWindow < slowStartThreshold {
      congestionWindow += min(bytes, 2 * mss)
    } else {
      bytesAcknowledged += bytes
      if bytesAcknowledged >= congestionWindow {
        bytesAcknowledged -= congestionWindow
        congestionWindow += mss
      }
    }
  }

  public mutating func lossDetected(flightSize: Int, maximumSegmentSize mss: Int, now: Instant) {
    slowStartThreshold = max(flightSize / 2, 2 * mss)  // RFC 5681 equation (4)
    congestionWindow = slowStartThreshold
    bytesAcknowledged = 0
  }

  public mutating func recoveryEnded(maximumSegmentSize mss: Int, now: Instant) {
    congestionWindow = slowStartThreshold  // RFC 6582 §3.2 step 3, "full acknowledgment"
  }

  public mutating func timedOut(flightSize: Int, maximumSegmentSize mss: Int, now: Instant) {
    slowStartThreshold = max(flightSize / 2, 2 * mss)
    congestionWindow = mss  // the loss window, RFC 5681 §3.1
    bytesAcknowledged = 0
  }
}
