import NetCore
import Testing

/// Monotonic instants and intervals: arithmetic, comparison and text.
struct InstantTests {
  @Test func intervalConstructorsAndAccessors() {
    #expect(Interval.seconds(2).nanoseconds == 2_000_000_000)
    #expect(Interval.milliseconds(3).nanoseconds == 3_000_000)
    #expect(Interval.microseconds(4).nanoseconds == 4_000)
    #expect(Interval.nanoseconds(5).nanoseconds == 5)
    let interval = Interval(nanoseconds: 1_234_567_891)
    #expect(
      interval.seconds == 1 && interval.milliseconds == 1234 && interval.microseconds == 1_234_567)
    #expect(Interval(nanoseconds: -1_500_000_000).seconds == -1)
  }

  @Test func intervalArithmetic() {
    #expect(Interval.seconds(1) + .milliseconds(500) == .milliseconds(1500))
    #expect(Interval.seconds(1) - .milliseconds(1500) == .milliseconds(-500))
    #expect(Interval.milliseconds(3) * 4 == .milliseconds(12))
    #expect(Interval.seconds(1) / 4 == .milliseconds(250))
    #expect(Interval.milliseconds(1) < .seconds(1))
    #expect(Interval.zero < .nanoseconds(1))
    #expect(max(Interval.milliseconds(2), .microseconds(500)) == .milliseconds(2))
  }

  @Test func instantArithmetic() {
    var now = Instant.zero
    now += .seconds(30)
    #expect(now == Instant(nanoseconds: 30_000_000_000))
    let later = now + .milliseconds(250)
    #expect(later - now == .milliseconds(250))
    #expect(now - later == .milliseconds(-250))
    #expect(later - .milliseconds(250) == now)
    #expect(now < later)
    #expect(Instant(nanoseconds: -5) < .zero)
  }

  @Test func earliest() {
    let a = Instant(nanoseconds: 10)
    let b = Instant(nanoseconds: 20)
    #expect(Instant.earliest(a, b) == a)
    #expect(Instant.earliest(b, a) == a)
    #expect(Instant.earliest(nil, b) == b)
    #expect(Instant.earliest(a, nil) == a)
    #expect(Instant.earliest(nil, nil) == nil)
  }

  @Test(arguments: [
    (Interval.zero, "0ns"),
    (.nanoseconds(999), "999ns"),
    (.microseconds(12), "12us"),
    (.nanoseconds(999_999), "999us"),
    (.milliseconds(250), "250ms"),
    (.nanoseconds(999_999_999), "999ms"),
    (.seconds(1), "1.0s"),
    (.milliseconds(1500), "1.5s"),
    (.milliseconds(1999), "1.9s"),
    (.seconds(30), "30.0s"),
    (.milliseconds(-250), "-250ms"),
    (.milliseconds(-2500), "-2.5s"),
    (.nanoseconds(-7), "-7ns"),
  ])
  func intervalDescription(interval: Interval, text: String) {
    #expect(interval.description == text)
  }

  @Test func instantDescriptionIsTimeSinceOrigin() {
    #expect(Instant(nanoseconds: 2_500_000_000).description == "2.5s")
    #expect(Instant.zero.description == "0ns")
  }
}
