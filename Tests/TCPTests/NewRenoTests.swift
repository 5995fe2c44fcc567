import NetCore
import Testing

@testable import TCP

/// Standard congestion control (RFC 5681) with NewReno's recovery (RFC 6582): the initial
/// window (RFC 6928), slow start with byte counting capped at two segments per ACK
/// (RFC 3465), one segment per window in congestion avoidance, halving on loss, one segment
/// after a timeout.
struct NewRenoTests {
  static let mss = 1460

  @Test(arguments: [(536, 5360), (1000, 10000), (1460, 14600), (4000, 14600), (8960, 17920)])
  func initialWindowFollowsRFC6928(mss: Int, window: Int) {
    // min(10 × MSS, max(2 × MSS, 14600)).
    #expect(initialCongestionWindow(maximumSegmentSize: mss) == window)
    #expect(NewReno(maximumSegmentSize: mss).congestionWindow == window)
    #expect(CUBIC(maximumSegmentSize: mss).congestionWindow == window)
  }

  @Test func slowStartGrowsByWhatIsAcknowledgedUpToTwoSegments() {
    var reno = NewReno(maximumSegmentSize: Self.mss)
    #expect(reno.slowStartThreshold == Int.max)
    reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 16060)
    reno.acknowledged(bytes: 100, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 16160)
    // A stretch ACK of ten segments counts as two (RFC 3465 §2.2, L = 2 × SMSS).
    reno.acknowledged(bytes: 14600, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 16160 + 2920)
  }

  @Test func lossHalvesTheFlightSize() {
    var reno = NewReno(maximumSegmentSize: Self.mss)
    // RFC 5681 equation (4): ssthresh = max(FlightSize / 2, 2 × SMSS).
    reno.lossDetected(flightSize: 20000, maximumSegmentSize: Self.mss, now: .zero)
    #expect(reno.slowStartThreshold == 10000)
    #expect(reno.congestionWindow == 10000)
    reno.lossDetected(flightSize: 3000, maximumSegmentSize: Self.mss, now: .zero)
    #expect(reno.slowStartThreshold == 2920)
    reno.recoveryEnded(maximumSegmentSize: Self.mss, now: .zero)
    #expect(reno.congestionWindow == 2920)
  }

  @Test func congestionAvoidanceAddsOneSegmentPerWindow() {
    var reno = NewReno(maximumSegmentSize: Self.mss)
    reno.lossDetected(flightSize: 20000, maximumSegmentSize: Self.mss, now: .zero)
    reno.recoveryEnded(maximumSegmentSize: Self.mss, now: .zero)
    #expect(reno.congestionWindow == 10000)
    // RFC 5681 §3.1: about one SMSS per RTT; here, once a window's worth is acknowledged.
    for _ in 0..<6 {
      reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    }
    #expect(reno.congestionWindow == 10000)
    reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 11460)
    // The surplus carries over: 220 of the 10220 bytes counted.
    for _ in 0..<7 {
      reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    }
    #expect(reno.congestionWindow == 11460)
    reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 12920)
  }

  @Test func timeoutLeavesOneSegment() {
    var reno = NewReno(maximumSegmentSize: Self.mss)
    // RFC 5681 §3.1: ssthresh per equation (4), cwnd = the loss window, one segment.
    reno.timedOut(flightSize: 14600, maximumSegmentSize: Self.mss, now: .zero)
    #expect(reno.congestionWindow == 1460)
    #expect(reno.slowStartThreshold == 7300)
    // Slow start again up to ssthresh.
    for _ in 0..<4 {
      reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    }
    #expect(reno.congestionWindow == 7300)
    reno.acknowledged(bytes: 1460, maximumSegmentSize: Self.mss, rtt: nil, now: .zero)
    #expect(reno.congestionWindow == 7300)  // now in congestion avoidance
  }

  @Test func controllerDispatchesToTheChosenAlgorithm() {
    var controller = CongestionController(.newReno, maximumSegmentSize: Self.mss)
    guard case .newReno = controller else {
      Issue.record("expected NewReno")
      return
    }
    controller.lossDetected(flightSize: 20000, maximumSegmentSize: Self.mss, now: .zero)
    #expect(controller.congestionWindow == 10000)
    controller.timedOut(flightSize: 20000, maximumSegmentSize: Self.mss, now: .zero)
    #expect(controller.congestionWindow == 1460)
    var cubic = CongestionController(.cubic, maximumSegmentSize: Self.mss)
    cubic.lossDetected(flightSize: 20000, maximumSegmentSize: Self.mss, now: .zero)
    #expect(cubic.slowStartThreshold == 10220)  // 0.7 × cwnd (14600)
    #expect(TCPConfiguration().congestionAlgorithm == .cubic)
  }
}
