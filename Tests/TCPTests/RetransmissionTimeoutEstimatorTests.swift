import NetCore
import Testing

@testable import TCP

/// RFC 6298's estimator: SRTT and RTTVAR from samples (§2), RTO = SRTT + max(G, 4 RTTVAR)
/// within a minimum and a maximum, exponential backoff (§5.5) that ends with an
/// acknowledgment.
struct RetransmissionTimeoutEstimatorTests {
  @Test func beforeAnySampleTheTimeoutIsOneSecond() {
    let estimator = RetransmissionTimeoutEstimator()
    #expect(estimator.smoothedRoundTripTime == nil)
    #expect(estimator.baseTimeout == .seconds(1))  // §2.1
    #expect(estimator.timeout == .seconds(1))
  }

  @Test func firstSample() {
    // §2.2: SRTT <- R, RTTVAR <- R/2, RTO <- SRTT + max(G, K*RTTVAR).
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.milliseconds(100))
    #expect(estimator.smoothedRoundTripTime == .milliseconds(100))
    #expect(estimator.roundTripTimeVariation == .milliseconds(50))
    #expect(estimator.baseTimeout == .milliseconds(300))
  }

  @Test func laterSamples() {
    // §2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT <- 7/8 SRTT + 1/8 R'.
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.milliseconds(100))
    estimator.addSample(.milliseconds(200))
    #expect(estimator.roundTripTimeVariation == .microseconds(62_500))
    #expect(estimator.smoothedRoundTripTime == .microseconds(112_500))
    #expect(estimator.baseTimeout == .microseconds(362_500))
    estimator.addSample(.milliseconds(40))
    // RTTVAR = 3/4 × 62.5 + 1/4 × 72.5 = 65; SRTT = 7/8 × 112.5 + 5 = 103.4375.
    #expect(estimator.roundTripTimeVariation == .microseconds(65_000))
    #expect(estimator.smoothedRoundTripTime == .nanoseconds(103_437_500))
    #expect(estimator.baseTimeout == .nanoseconds(363_437_500))
  }

  @Test func steadySamplesConverge() {
    var estimator = RetransmissionTimeoutEstimator()
    for _ in 0..<200 { estimator.addSample(.milliseconds(250)) }
    #expect(estimator.smoothedRoundTripTime == .milliseconds(250))
    #expect(estimator.roundTripTimeVariation < .microseconds(1))
    // RTTVAR has decayed: the clock granularity G is the margin.
    #expect(estimator.baseTimeout == .milliseconds(251))
  }

  @Test func timeoutIsAtLeastTheMinimum() {
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.milliseconds(1))
    #expect(estimator.baseTimeout == .milliseconds(200))
    estimator.minimum = .seconds(1)  // the RFC's own, §2.4
    #expect(estimator.baseTimeout == .seconds(1))
  }

  @Test func timeoutIsAtMostTheMaximum() {
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.seconds(100))
    #expect(estimator.baseTimeout == .seconds(60))
  }

  @Test func negativeSampleCountsAsZero() {
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.milliseconds(-5))
    #expect(estimator.smoothedRoundTripTime == .zero)
    #expect(estimator.baseTimeout == .milliseconds(200))
  }

  @Test func backoffDoublesUpToTheMaximum() {
    // §5.5: RTO <- RTO * 2 on each expiry; "a maximum value MAY be placed on RTO provided it
    // is at least 60 seconds".
    var estimator = RetransmissionTimeoutEstimator()
    estimator.addSample(.milliseconds(100))
    var timeouts: [Interval] = []
    for _ in 0..<10 {
      estimator.timerExpired()
      timeouts.append(estimator.timeout)
    }
    #expect(
      timeouts == [
        .milliseconds(600), .milliseconds(1200), .milliseconds(2400), .milliseconds(4800),
        .milliseconds(9600), .milliseconds(19200), .milliseconds(38400), .seconds(60),
        .seconds(60), .seconds(60),
      ])
    for _ in 0..<100 { estimator.timerExpired() }
    #expect(estimator.backoff == 16)
    #expect(estimator.timeout == .seconds(60))
  }

  @Test func acknowledgmentEndsTheBackoff() {
    var estimator = RetransmissionTimeoutEstimator()
    estimator.timerExpired()
    estimator.timerExpired()
    #expect(estimator.timeout == .seconds(4))
    estimator.acknowledged()
    #expect(estimator.backoff == 0)
    #expect(estimator.timeout == .seconds(1))
  }
}
