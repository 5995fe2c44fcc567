import IPv4
import NetCore
import Testing

/// The token bucket that limits ICMP errors.
struct ICMPv4RateLimiterTests {
  func ms(_ value: Int64) -> Instant { Instant(nanoseconds: value * 1_000_000) }

  @Test func burstThenRefill() {
    var limiter = ICMPv4RateLimiter(ratePerSecond: 100, burst: 5)  // a token every 10 ms
    let start = ms(1000)
    for _ in 0..<5 { #expect(limiter.allow(now: start) == true) }
    #expect(limiter.allow(now: start) == false)
    #expect(limiter.allow(now: start + .milliseconds(9)) == false)
    #expect(limiter.allow(now: start + .milliseconds(10)) == true)
    #expect(limiter.allow(now: start + .milliseconds(10)) == false)
    // 35 ms later: three tokens (the 5 ms left over carry on).
    let later = start + .milliseconds(45)
    for _ in 0..<3 { #expect(limiter.allow(now: later) == true) }
    #expect(limiter.allow(now: later) == false)
    #expect(limiter.allow(now: start + .milliseconds(50)) == true)
  }

  @Test func refillIsCappedAtTheBurst() {
    var limiter = ICMPv4RateLimiter(ratePerSecond: 10, burst: 3)
    for _ in 0..<3 { #expect(limiter.allow(now: .zero) == true) }
    let much = Instant.zero + .seconds(3600)
    for _ in 0..<3 { #expect(limiter.allow(now: much) == true) }
    #expect(limiter.allow(now: much) == false)
  }

  @Test func linuxDefaults() {
    var limiter = ICMPv4RateLimiter()
    #expect(limiter.ratePerSecond == 1000 && limiter.burst == 50)
    var allowed = 0
    for _ in 0..<200 where limiter.allow(now: ms(5)) { allowed += 1 }
    #expect(allowed == 50)
    // Over one second at a steady 2000 a second, about 1000 get through (plus the burst).
    var now = ms(5)
    allowed = 0
    for _ in 0..<2000 {
      now += .microseconds(500)
      if limiter.allow(now: now) { allowed += 1 }
    }
    #expect((990...1010).contains(allowed))
  }

  /// The layer counts errors it did not send.
  @Test func layerCountsRateLimitedErrors() {
    var layer = makeLayer(errorRateLimiter: ICMPv4RateLimiter(ratePerSecond: 1, burst: 2))
    let datagram = LinuxCaptures.udpToClosedPort
    for _ in 0..<5 {
      layer.sendDestinationUnreachable(
        .port, about: datagram.span, linkBroadcast: false, now: .zero)
    }
    #expect(layer.takeSent().count == 2)
    #expect(layer.icmpCounters.errorsSent == 2)
    #expect(layer.icmpCounters.errorsRateLimited == 3)
    layer.sendDestinationUnreachable(
      .port, about: datagram.span, linkBroadcast: false,
      now: .zero + .seconds(1))
    #expect(layer.takeSent().count == 1)
  }
}
