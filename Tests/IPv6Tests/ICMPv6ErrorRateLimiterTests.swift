import IPv6
import NetCore
import Testing

/// The error rate limit (RFC 4443 §2.4 f): a burst, then the rate.
struct ICMPv6ErrorRateLimiterTests {
  @Test func burstThenRate() {
    var limiter = ICMPv6ErrorRateLimiter(ratePerSecond: 10, burst: 5)
    let allowed = (0..<20).filter { _ in limiter.allow(now: at(1)) }.count
    #expect(allowed == 5)
    // 100 ms later: one more token.
    #expect(limiter.allow(now: at(1.1)) == true)
    #expect(limiter.allow(now: at(1.1)) == false)
    // A quiet second refills no more than the burst.
    let later = (0..<20).filter { _ in limiter.allow(now: at(5)) }.count
    #expect(later == 5)
  }

  @Test func defaultsAreLinuxs() {
    var limiter = ICMPv6ErrorRateLimiter()
    #expect(limiter.ratePerSecond == 1000 && limiter.burst == 50)
    // Over one second from a standing start: the burst and a thousand more, about.
    var sent = 0
    for step in 0..<10_000 where limiter.allow(now: Instant(nanoseconds: Int64(step) * 100_000)) {
      sent += 1
    }
    #expect(sent >= 1000 && sent <= 1050)
  }
}
