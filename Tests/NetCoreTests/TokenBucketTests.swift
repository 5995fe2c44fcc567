import NetCore
import Testing

/// The shared rate limit: bursts, refill by whole intervals, leftovers carried, nothing banked
/// while full.
struct TokenBucketTests {
  func ms(_ value: Int64) -> Instant { Instant(nanoseconds: value * 1_000_000) }

  @Test func startsFullAndEmptiesAfterTheBurst() {
    var bucket = TokenBucket(tokensPerSecond: 100, burst: 4)
    #expect(bucket.tokens == 4 && bucket.interval == .milliseconds(10))
    for _ in 0..<4 { #expect(bucket.take(now: ms(500)) == true) }
    #expect(bucket.take(now: ms(500)) == false)
    #expect(bucket.tokens == 0)
  }

  @Test func refillsOneTokenPerIntervalAndCarriesTheRest() {
    var bucket = TokenBucket(tokensPerSecond: 100, burst: 4)
    for _ in 0..<4 { _ = bucket.take(now: ms(0)) }
    #expect(bucket.take(now: ms(9)) == false)
    #expect(bucket.take(now: ms(15)) == true)  // one token; 5 ms of the next carried
    #expect(bucket.take(now: ms(19)) == false)
    #expect(bucket.take(now: ms(20)) == true)  // the carried 5 ms and 5 more
    #expect(bucket.take(now: ms(20)) == false)
  }

  @Test func aQuietPeriodAllowsNoMoreThanTheBurst() {
    var bucket = TokenBucket(tokensPerSecond: 10, burst: 3)
    #expect(bucket.take(now: ms(0)) == true)
    // An hour later: full again, and only the burst goes at once.
    let later = ms(3_600_000)
    for _ in 0..<3 { #expect(bucket.take(now: later) == true) }
    #expect(bucket.take(now: later) == false)
    // Time spent full is not banked: the next token takes a whole interval from here.
    #expect(bucket.take(now: later + .milliseconds(99)) == false)
    #expect(bucket.take(now: later + .milliseconds(100)) == true)
  }

  @Test func steadyRateIsTheConfiguredOne() {
    var bucket = TokenBucket(tokensPerSecond: 3, burst: 1)  // 333,333,333 ns a token
    var now = ms(0)
    var allowed = 0
    for _ in 0..<10_000 {  // 10 s, one try per millisecond
      now += .milliseconds(1)
      if bucket.take(now: now) { allowed += 1 }
    }
    #expect((30...31).contains(allowed))
  }

  @Test func clockGoingBackwardsTakesNothingBack() {
    var bucket = TokenBucket(tokensPerSecond: 1000, burst: 2)
    #expect(bucket.take(now: ms(100)) == true)
    #expect(bucket.take(now: ms(100)) == true)
    #expect(bucket.take(now: ms(50)) == false)
    #expect(bucket.take(now: ms(101)) == true)
  }
}
