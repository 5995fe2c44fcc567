import NetCore
import Testing

@testable import TCP

/// CUBIC (RFC 9438): β = 0.7 on loss, the cubic curve W(t) = C (t − K)³ + W_max with C = 0.4
/// that returns to W_max after K seconds, fast convergence (§4.7), the Reno-friendly
/// estimate (§4.3), and one segment after a timeout (§4.8).
struct CUBICTests {
  static let mss = 1460
  static let roundTrip = Interval.milliseconds(100)

  /// W_max in segments (private state, read by reflection).
  func windowAtLoss(_ cubic: CUBIC) -> Double? {
    Mirror(reflecting: cubic).children.first { $0.label == "windowAtLoss" }?.value as? Double
  }

  /// Acknowledges a window's worth each round trip for `duration`, one segment per ACK (the
  /// last ACK of a round covering what is left of the window).
  func run(_ cubic: inout CUBIC, from start: Instant, for duration: Interval) -> Instant {
    var now = start
    while now < start + duration {
      var left = cubic.congestionWindow
      while left > 0 {
        let bytes = min(left, Self.mss)
        cubic.acknowledged(
          bytes: bytes, maximumSegmentSize: Self.mss, rtt: Self.roundTrip, now: now)
        left -= bytes
      }
      now += Self.roundTrip
    }
    return now
  }

  /// A CUBIC in congestion avoidance after a loss at `segments` segments.
  func afterLoss(at segments: Int) -> CUBIC {
    var cubic = CUBIC(maximumSegmentSize: Self.mss)
    while cubic.congestionWindow < segments * Self.mss {
      cubic.acknowledged(bytes: Self.mss, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    }
    #expect(cubic.congestionWindow == segments * Self.mss)
    cubic.lossDetected(
      flightSize: cubic.congestionWindow, maximumSegmentSize: Self.mss, now: .zero)
    return cubic
  }

  @Test(arguments: [(27.0, 3.0), (8.0, 2.0), (1.0, 1.0), (0.001, 0.1), (75.0, 4.217_163_326)])
  func cubeRoot(value: Double, root: Double) {
    #expect(abs(CUBIC.cubeRoot(value) - root) < 1e-6)
  }

  @Test func cubeRootOfZeroOrLessIsZero() {
    #expect(CUBIC.cubeRoot(0) == 0)
    #expect(CUBIC.cubeRoot(-8) == 0)
  }

  @Test func slowStartLikeReno() {
    var cubic = CUBIC(maximumSegmentSize: Self.mss)
    cubic.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(cubic.congestionWindow == 16060)
    cubic.acknowledged(bytes: 10000, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(cubic.congestionWindow == 16060 + 2920)
  }

  @Test func lossMultipliesTheWindowByBeta() {
    let cubic = afterLoss(at: 100)
    // §4.6: ssthresh = cwnd × β_cubic, cwnd = ssthresh.
    #expect(cubic.slowStartThreshold == 102_200)
    #expect(cubic.congestionWindow == 102_200)
    #expect(windowAtLoss(cubic) == 100)
  }

  @Test func windowReturnsToWMaxAfterK() {
    // K = ∛((W_max − cwnd_epoch) / C) = ∛(30 / 0.4) ≈ 4.22 s for W_max = 100.
    var cubic = afterLoss(at: 100)
    var now = run(&cubic, from: .zero, for: .seconds(2))
    let halfway = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(halfway > 90 && halfway < 100)  // concave: most of the way back already
    now = run(&cubic, from: now, for: .milliseconds(2100))
    let atK = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(abs(atK - 100) < 1.5)
    // Past K the curve turns convex: growth speeds up again.
    now = run(&cubic, from: now, for: .seconds(2))
    let later = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(later > 102 && later < 106)
    _ = run(&cubic, from: now, for: .seconds(2))
    let muchLater = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(muchLater - later > later - atK)
  }

  @Test func fastConvergenceReleasesBandwidth() {
    // §4.7: a loss below the previous W_max sets W_max = cwnd × (1 + β) / 2.
    var cubic = afterLoss(at: 100)
    #expect(cubic.congestionWindow == 70 * Self.mss)
    cubic.lossDetected(
      flightSize: cubic.congestionWindow, maximumSegmentSize: Self.mss, now: .zero)
    #expect(abs((windowAtLoss(cubic) ?? 0) - 70 * 0.85) < 1e-9)
    #expect(cubic.congestionWindow == 49 * Self.mss)
  }

  /// Grows the window in congestion avoidance, ACK-clocked, until it reaches `segments`.
  func grow(_ cubic: inout CUBIC, to segments: Int, from start: Instant) -> Instant {
    var now = start
    while cubic.congestionWindow < segments * Self.mss {
      for _ in 0..<(cubic.congestionWindow / Self.mss) {
        cubic.acknowledged(
          bytes: Self.mss, maximumSegmentSize: Self.mss, rtt: Self.roundTrip, now: now)
        if cubic.congestionWindow >= segments * Self.mss { break }
      }
      now += Self.roundTrip
    }
    return now
  }

  @Test func fastConvergenceComparesWithTheReducedWMax() {
    // §4.7 compares cwnd with W_max as it stands, which after a fast-convergence reduction is
    // the reduced value (Linux's last_max_cwnd likewise): losses at 100, 90 and 88 segments
    // leave W_max at 100, then 90 × 0.85 = 76.5, then 88 (not below 76.5: no reduction).
    var cubic = afterLoss(at: 100)
    var now = grow(&cubic, to: 90, from: .zero)
    let second = Double(cubic.congestionWindow) / Double(Self.mss)
    cubic.lossDetected(flightSize: cubic.congestionWindow, maximumSegmentSize: Self.mss, now: now)
    #expect(abs((windowAtLoss(cubic) ?? 0) - second * 0.85) < 1e-6)
    now = grow(&cubic, to: 88, from: now)
    let third = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(third < second && third > second * 0.85)
    cubic.lossDetected(flightSize: cubic.congestionWindow, maximumSegmentSize: Self.mss, now: now)
    let wmax = windowAtLoss(cubic) ?? 0
    #expect(abs(wmax - third) < 1e-6)
  }

  @Test func renoFriendlyRegionKeepsPaceWithReno() {
    // §4.3: while W_cubic(t) < W_est, "cwnd SHOULD be set to W_est at each reception of a new
    // ACK", W_est growing by α = 3(1 − β)/(1 + β) ≈ 0.53 segments per RTT: after a loss at 10
    // segments, 10 RTTs take cwnd from 7 to about 12.3 segments.
    var cubic = afterLoss(at: 10)
    _ = run(&cubic, from: .zero, for: .seconds(1))
    let segments = Double(cubic.congestionWindow) / Double(Self.mss)
    #expect(segments > 12.1 && segments < 12.3)  // the cubic curve alone gives ≈ 7.3
  }

  @Test func recoveryEndsAtSsthresh() {
    var cubic = afterLoss(at: 100)
    cubic.recoveryEnded(maximumSegmentSize: Self.mss, now: .zero)
    #expect(cubic.congestionWindow == 102_200)
    // Never below two segments.
    var small = CUBIC(maximumSegmentSize: Self.mss)
    small.timedOut(flightSize: 1460, maximumSegmentSize: Self.mss, now: .zero)
    small.lossDetected(flightSize: 1460, maximumSegmentSize: Self.mss, now: .zero)
    small.recoveryEnded(maximumSegmentSize: Self.mss, now: .zero)
    #expect(small.congestionWindow == 2 * Self.mss)
  }

  @Test func timeoutLeavesOneSegment() {
    var cubic = CUBIC(maximumSegmentSize: Self.mss)
    cubic.timedOut(flightSize: 14600, maximumSegmentSize: Self.mss, now: .zero)
    #expect(cubic.congestionWindow == Self.mss)
    #expect(cubic.slowStartThreshold == 10220)
  }
}
