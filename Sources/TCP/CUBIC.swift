import NetCore

/// CUBIC congestion control (RFC 9438): after a loss the window grows along a cubic curve
/// centred on the window where the loss happened (W_max), so it returns there fast, probes
/// carefully around it, and then accelerates; a Reno-friendly estimate (§4.3) keeps it at
/// least as fast as standard TCP on short, slow paths. β = 0.7, C = 0.4; fast convergence
/// (§4.7).
public struct CUBIC: CongestionControl {
  public private(set) var congestionWindow: Int
  public private(set) var slowStartThreshold = Int.max

  static let beta = 0.7
  static let c = 0.4

  /// W_max in segments: the window at the last loss (reduced by fast convergence).
  private var windowAtLoss = 0.0
  /// When the current congestion-avoidance epoch began.
  private var epochStart: Instant?
  /// K in seconds: time to grow back to W_max.
  private var timeToMax = 0.0
  /// The window at the start of the epoch, in segments (cwnd_epoch).
  private var windowAtEpochStart = 0.0
  /// The Reno-friendly estimate W_est, in segments.
  private var renoEstimate = 0.0
  /// Bytes acknowledged not yet turned into window growth.
  private var bytesAcknowledged = 0

  public init(maximumSegmentSize: Int) {
    congestionWindow = initialCongestionWindow(maximumSegmentSize: maximumSegmentSize)
  }

  public mutating func acknowledged(
    bytes: Int, maximumSegmentSize mss: Int, rtt: Interval?, now: Instant
  ) {
    if congestionWindow < slowStartThreshold {
      congestionWindow += min(bytes, 2 * mss)
      return
    }
    let segments = Double(congestionWindow) / Double(mss)
    if epochStart == nil {
      epochStart = now
      windowAtEpochStart = segments
      if windowAtLoss <= segments {
        timeToMax = 0
        windowAtLoss = segments
      } else {
        timeToMax = CUBIC.cubeRoot((windowAtLoss - segments) / CUBIC.c)  // §4.2, equation 2
      }
      renoEstimate = segments
    }
    let roundTrip = Double(max(rtt ?? .milliseconds(100), .microseconds(100)).nanoseconds) / 1e9
    let elapsed = Double((now - epochStart!).nanoseconds) / 1e9
    // §4.3: W_est grows by α_cubic segments per round trip, α = 3(1-β)/(1+β).
    let alpha = 3 * (1 - CUBIC.beta) / (1 + CUBIC.beta)
    renoEstimate += alpha * Double(bytes) / Double(congestionWindow)
    // §4.2: the target is W_cubic one round trip ahead, limited to 1.5 × cwnd.
    let offset = elapsed + roundTrip - timeToMax
    let cubicTarget = CUBIC.c * offset * offset * offset + windowAtLoss
    if cubicTarget < renoEstimate {
      // §4.3, the Reno-friendly region: "cwnd SHOULD be set to W_est at each reception of a
      // new ACK".
      congestionWindow = max(congestionWindow, Int(renoEstimate * Double(mss)))
      bytesAcknowledged = 0
      return
    }
    let target = min(max(cubicTarget, segments), segments * 1.5)
    // Grow by (target - cwnd) / cwnd segments per segment acknowledged (§4.4).
    bytesAcknowledged += bytes
    let growth = (target - segments) / segments * Double(bytesAcknowledged)
    if growth >= 1 {
      congestionWindow += Int(growth)
      bytesAcknowledged = 0
    }
  }

  public mutating func lossDetected(flightSize: Int, maximumSegmentSize mss: Int, now: Instant) {
    let segments = Double(congestionWindow) / Double(mss)
    // §4.7 fast convergence: a flow losing below W_max (as it stands, reduced or not)
    // releases bandwidth.
    if segments < windowAtLoss {
      windowAtLoss = segments * (1 + CUBIC.beta) / 2
    } else {
      windowAtLoss = segments
    }
    slowStartThreshold = max(Int(Double(congestionWindow) * CUBIC.beta), 2 * mss)  // §4.6
    congestionWindow = slowStartThreshold
    epochStart = nil
    bytesAcknowledged = 0
  }

  public mutating func recoveryEnded(maximumSegmentSize mss: Int, now: Instant) {
    congestionWindow = max(slowStartThreshold, 2 * mss)
  }

  public mutating func timedOut(flightSize: Int, maximumSegmentSize mss: Int, now: Instant) {
    // §4.8: as on loss, then the loss window of one segment.
    lossDetected(flightSize: flightSize, maximumSegmentSize: mss, now: now)
    congestionWindow = mss
  }

  /// The real cube root by Newton's method (the standard library has no `cbrt`).
  static func cubeRoot(_ value: Double) -> Double {
    guard value > 0 else { return 0 }
    var root = value > 1 ? value / 3 : 1.0
    for _ in 0..<60 {
      let next = root - (root * root * root - value) / (3 * root * root)
      if abs(next - root) < 1e-9 * max(1, root) { return next }
      root = next
    }
    return root
  }
}
