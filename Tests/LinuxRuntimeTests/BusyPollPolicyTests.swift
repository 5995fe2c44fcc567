import NetCore
import Testing

@testable import LinuxRuntime

/// The busy-poll policy's decisions in virtual time: when the loop polls and when it sleeps,
/// for the traffic patterns that matter (idle, a ping every 200 µs, a slow ping, a late echo
/// in a fast stream).
struct BusyPollPolicyTests {
  private static func at(microseconds: Int64) -> Instant {
    Instant(nanoseconds: microseconds * 1_000)
  }

  @Test func offNeverPolls() {
    var policy = BusyPollPolicy(.off)
    for time in stride(from: Int64(0), to: 2_000, by: 100) {
      policy.busyTurn(at: Self.at(microseconds: time))
      #expect(!policy.polls(at: Self.at(microseconds: time)))
      #expect(!policy.polls(at: Self.at(microseconds: time + 50)))
    }
  }

  /// `--busy-poll USEC`: polls for the window after every busy turn, whatever the gaps.
  @Test func fixedPollsForItsWindowAfterEveryBusyTurn() {
    var policy = BusyPollPolicy(.fixed(.microseconds(300)))
    #expect(!policy.polls(at: Self.at(microseconds: 0)), "no busy turn yet")
    policy.busyTurn(at: Self.at(microseconds: 1_000))
    #expect(policy.polls(at: Self.at(microseconds: 1_000)))
    #expect(policy.polls(at: Self.at(microseconds: 1_299)))
    #expect(!policy.polls(at: Self.at(microseconds: 1_300)))
    policy.busyTurn(at: Self.at(microseconds: 1_000_000))
    #expect(policy.polls(at: Self.at(microseconds: 1_000_100)), "a long gap changes nothing")
  }

  /// An idle loop's first busy turn starts no polling: one frame alone is no stream.
  @Test func adaptiveDoesNotPollAfterAnIsolatedFrame() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    policy.busyTurn(at: Self.at(microseconds: 5_000))
    #expect(policy.window == .zero)
    #expect(!policy.polls(at: Self.at(microseconds: 5_001)))
  }

  /// A ping every 200 µs: from the third echo on (the second shows the gap), the loop polls
  /// through every gap, and
  /// sleeps once the window has passed after the last one.
  @Test func adaptivePollsThroughAPingEvery200Microseconds() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    var arrivalsWhilePolling = 0
    for echo in 0..<100 {
      let arrival = Self.at(microseconds: Int64(echo) * 200)
      if policy.polls(at: arrival) { arrivalsWhilePolling += 1 }
      policy.busyTurn(at: arrival)
    }
    #expect(arrivalsWhilePolling == 98)
    let last = Self.at(microseconds: 99 * 200)
    #expect(policy.polls(at: last + .microseconds(499)))
    #expect(!policy.polls(at: last + .microseconds(500)))
    #expect(!policy.polls(at: last + .seconds(60)), "idle: sleeps")
  }

  /// A ping every second (the default of `ping`): never polls, so costs no CPU time.
  @Test func adaptiveNeverPollsForASlowPing() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    for echo in 0..<10 {
      let arrival = Self.at(microseconds: Int64(echo) * 1_000_000)
      #expect(!policy.polls(at: arrival))
      policy.busyTurn(at: arrival)
      #expect(!policy.polls(at: arrival + .microseconds(1)))
    }
  }

  /// Gaps longer than the maximum halve the window each time, down to zero below an eighth
  /// of the maximum: 500, 250, 125, 62.5 µs, then sleeping at once.
  @Test func adaptiveBacksOffExponentiallyWhenGapsGrow() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    policy.busyTurn(at: Self.at(microseconds: 0))
    policy.busyTurn(at: Self.at(microseconds: 100))
    #expect(policy.window == .microseconds(500))
    var windows: [Int64] = []
    for gap in 1...5 {
      policy.busyTurn(at: Self.at(microseconds: 100 + Int64(gap) * 1_000))
      windows.append(policy.window.nanoseconds)
    }
    #expect(windows == [250_000, 125_000, 62_500, 0, 0])
    #expect(!policy.polls(at: Self.at(microseconds: 5_101)))
  }

  /// One late echo in a fast stream (the sender was descheduled) costs one wake-up: the next
  /// gap is within the halved window, and the one after restores the full window.
  @Test func adaptiveKeepsPollingAfterOneLateArrival() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    let arrivals: [Int64] = [0, 200, 400, 600, 5_600, 5_800, 6_000, 6_200]
    var polled: [Bool] = []
    for arrival in arrivals.map({ Self.at(microseconds: $0) }) {
      polled.append(policy.polls(at: arrival))
      policy.busyTurn(at: arrival)
    }
    #expect(polled == [false, false, true, true, false, true, true, true])
    #expect(policy.window == .microseconds(500))
  }

  /// Preempted while polling (a contended CPU): no polling for 10 ms, then polling again;
  /// preemptions that follow closely double the pause (20, 40 ms ... up to 1 s); one long
  /// after starts again at 10 ms.
  @Test func adaptivePausesPollingWhenPreempted() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    var time: Int64 = 0
    /// A ping every 100 µs from `time` for `count` echoes; how many found the loop polling.
    func ping(_ count: Int) -> Int {
      var polled = 0
      for _ in 0..<count {
        time += 100
        if policy.polls(at: Self.at(microseconds: time)) { polled += 1 }
        policy.busyTurn(at: Self.at(microseconds: time))
      }
      return polled
    }
    #expect(ping(10) == 8)
    policy.preempted(at: Self.at(microseconds: time))
    #expect(policy.contentionPause == .milliseconds(10))
    #expect(ping(99) == 0, "paused for 10 ms")
    #expect(ping(10) == 10, "polling again")
    policy.preempted(at: Self.at(microseconds: time))
    #expect(policy.contentionPause == .milliseconds(20))
    for _ in 0..<8 { policy.preempted(at: Self.at(microseconds: time)) }
    #expect(policy.contentionPause == .seconds(1))
    time += 10_000_000
    policy.preempted(at: Self.at(microseconds: time))
    #expect(policy.contentionPause == .milliseconds(10), "long after: the first pause again")
  }

  /// A fixed window is the user's choice: preemption does not pause it.
  @Test func fixedIgnoresPreemption() {
    var policy = BusyPollPolicy(.fixed(.microseconds(300)))
    policy.busyTurn(at: Self.at(microseconds: 0))
    policy.preempted(at: Self.at(microseconds: 10))
    #expect(policy.polls(at: Self.at(microseconds: 20)))
  }

  @Test func describesItsMode() {
    #expect(BusyPollPolicy(.off).description == "off")
    #expect(BusyPollPolicy(.fixed(.microseconds(300))).description == "fixed 300 us")
    #expect(
      BusyPollPolicy(.adaptive(maximum: .microseconds(500))).description
        == "adaptive, up to 500 us")
  }

  /// The share of `seconds` of virtual time that a loop under `policy` spends polling when a
  /// frame comes every `gap` µs: after each busy turn it polls until the next frame if the
  /// policy says so (the frame then finds it polling), else it sleeps.
  private static func polledShare(
    _ policy: inout BusyPollPolicy, gap: Int64, seconds: Int64 = 1
  ) -> (share: Double, framesFoundPolling: Int) {
    var polled: Int64 = 0
    var found = 0
    var time: Int64 = 0
    var wasPolling = false
    while time < seconds * 1_000_000 {
      if wasPolling { found += 1 }
      policy.busyTurn(at: at(microseconds: time))
      wasPolling = policy.polls(at: at(microseconds: time)) && policy.window.microseconds > gap
      if wasPolling { polled += gap }
      time += gap
    }
    return (Double(polled) / Double(seconds * 1_000_000), found)
  }

  /// Without a cap, a ping every 200 µs keeps the adaptive loop polling all the time: every
  /// echo request finds it polling, and it never sleeps.
  @Test func adaptiveWithoutCapPollsAllTheTimeForAPingEvery200Microseconds() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)))
    let (share, found) = Self.polledShare(&policy, gap: 200)
    #expect(share > 0.99)
    #expect(found > 4_990)
  }

  /// With --busy-poll-share 50 the same ping costs at most half the time in polling (plus
  /// the saved-up credit of 5 ms), and half the echo requests still find the loop polling.
  @Test(arguments: [Int64(25), 50, 75])
  func shareCapsThePollingOfAPingEvery200Microseconds(percent: Int64) {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)), maximumShare: percent)
    let (share, found) = Self.polledShare(&policy, gap: 200, seconds: 2)
    let cap = Double(percent) / 100
    #expect(share <= cap + 0.005 + 0.0025, "polled \(share) of the time, cap \(cap)")
    #expect(share >= cap - 0.1, "polled \(share) of the time, cap \(cap)")
    #expect(Double(found) >= (cap - 0.1) * 10_000)
  }

  /// A back-to-back ping (an echo every 15 µs) with the cap at 100 % is polled throughout, as
  /// before the cap existed; the status words do not change at 100 %.
  @Test func fullShareIsNoCap() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)), maximumShare: 100)
    let (share, _) = Self.polledShare(&policy, gap: 15)
    #expect(share > 0.99)
    #expect(policy.description == "adaptive, up to 500 us")
    let capped = BusyPollPolicy(.adaptive(maximum: .microseconds(500)), maximumShare: 40)
    #expect(capped.description == "adaptive, up to 500 us, at most 40 % of the time")
    #expect(BusyPollPolicy(.off, maximumShare: 0).maximumShare == 1)
  }

  /// After an idle spell the credit is back: a burst polls at once, and the cap only counts
  /// once the saved 5 ms are spent.
  @Test func creditComesBackWhileIdle() {
    var policy = BusyPollPolicy(.adaptive(maximum: .microseconds(500)), maximumShare: 10)
    _ = Self.polledShare(&policy, gap: 200)
    #expect(policy.pollingCredit < .microseconds(100), "the credit is spent")
    // One second idle, then frames 100 µs apart: the second one finds the loop polling.
    policy.busyTurn(at: Self.at(microseconds: 3_000_000))
    policy.busyTurn(at: Self.at(microseconds: 3_000_100))
    #expect(policy.pollingCredit > .milliseconds(4), "the credit came back")
    #expect(policy.polls(at: Self.at(microseconds: 3_000_150)))
  }
}
