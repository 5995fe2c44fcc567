import NetCore

/// Whether the event loop polls for readiness (`epoll_wait` with a zero timeout) or sleeps,
/// decided from the times of its busy turns, the turns that found a descriptor ready (sans-IO:
/// the loop tells it the time).
///
/// A sleeping loop is woken by an interrupt: in a VM, waking an idle vCPU costs tens of
/// microseconds, on every frame of a closely spaced exchange (a ping every 200 µs). Polling
/// saves that wake-up and spends CPU time instead. Linux's busy polling
/// (`net.core.busy_poll`, Documentation/networking/napi.rst, "Busy polling") polls for a fixed
/// time after each receive; ``Mode/fixed(_:)`` does the same. ``Mode/adaptive(maximum:)``
/// polls only while work keeps arriving closely spaced:
///
/// - a busy turn that came at most `maximum` after the one before (the work arrives closely
///   spaced) sets the window to `maximum`: the loop polls that long after it;
/// - a busy turn that came later (the loop slept through the window, or had none) halves the
///   window, and a window below an eighth of `maximum` is zero: after a few such gaps the loop
///   sleeps as soon as it is idle (exponential back-off to a blocking `epoll_wait`).
///
/// So an idle loop, or one whose peer sends less often than every `maximum`, does not poll
/// at all, and a loop that did poll sleeps at most `maximum` after its last work.
///
/// On a contended CPU polling does harm: the scheduler preempts a thread that spins for a
/// whole slice (milliseconds) of another's, where a thread that sleeps is run at once when it
/// is woken, and the busy vCPU wakes without an interrupt's delay. So when the loop reports
/// that it was preempted while it polled (``preempted(at:)``: it lost time to other work),
/// the adaptive mode stops polling for a pause, 10 ms at first, doubled for each preemption
/// that follows within four pauses, up to 1 s.
///
/// A peer that sends every 200 µs keeps the adaptive window open all the time: the loop then
/// spins a whole CPU to save each wake-up. ``maximumShare`` caps that (a duty cycle): the
/// adaptive mode polls only while it has polling credit, which grows by that share of the time
/// that passes and shrinks by the time it polls (a token bucket of at most
/// ``shareCreditLimit``), so over time it polls at most that share of the time and sleeps in
/// the rest; at 100 % (the default) there is no cap.
public struct BusyPollPolicy: Sendable, CustomStringConvertible {
  /// How the loop decides between polling and sleeping.
  public enum Mode: Sendable, Equatable {
    /// Sleep as soon as a turn is done.
    case off
    /// Poll for this long after every busy turn (`--busy-poll USEC`).
    case fixed(Interval)
    /// Poll for up to `maximum` after a busy turn, while busy turns keep coming at most
    /// `maximum` apart (the daemon's default).
    case adaptive(maximum: Interval)
  }

  /// The adaptive mode's longest window by default: 500 µs covers a ping every 200 µs with
  /// room for a late one, and a peer that sends less often costs no polling.
  public static let defaultAdaptiveMaximum = Interval.microseconds(500)

  /// The adaptive mode's first pause in polling after a preemption.
  public static let firstContentionPause = Interval.milliseconds(10)
  /// The adaptive mode's longest pause in polling after preemptions.
  public static let maximumContentionPause = Interval.seconds(1)

  /// The most polling credit the duty-cycle cap saves up: what a loop that was idle may poll
  /// at once before the cap counts.
  public static let shareCreditLimit = Interval.milliseconds(5)

  /// The mode the policy was made with.
  public let mode: Mode
  /// The adaptive mode's duty-cycle cap: the largest share of the time it polls, in percent
  /// (100: no cap).
  public let maximumShare: Int64
  /// The polling time the cap still allows (only counted when ``maximumShare`` is below 100).
  public private(set) var pollingCredit = BusyPollPolicy.shareCreditLimit
  /// How long the loop polls after the last busy turn; zero: it sleeps at once.
  public private(set) var window: Interval
  /// When the last busy turn began.
  public private(set) var lastBusyTurn: Instant?
  /// The current pause in polling after a preemption (zero: none yet).
  public private(set) var contentionPause = Interval.zero
  /// Until when the adaptive mode does not poll, after a preemption.
  public private(set) var pausedUntil: Instant?
  /// When the loop last reported a preemption while it polled.
  private var lastPreemption: Instant?

  /// A policy in `mode`; an adaptive one starts with no window (an idle loop sleeps), and polls
  /// at most `maximumShare` percent of the time (1 to 100, clamped; 100: no cap).
  public init(_ mode: Mode, maximumShare: Int64 = 100) {
    self.mode = mode
    self.maximumShare = min(max(maximumShare, 1), 100)
    switch mode {
    case .off: window = .zero
    case .fixed(let window): self.window = max(window, .zero)
    case .adaptive: window = .zero
    }
  }

  /// Whether the loop polls at `now` rather than sleeps: `now` is inside the window that
  /// follows the last busy turn.
  public func polls(at now: Instant) -> Bool {
    guard let lastBusyTurn, window > .zero else { return false }
    if let pausedUntil, now < pausedUntil { return false }
    if maximumShare < 100 && pollingCredit <= .zero { return false }
    return now - lastBusyTurn < window
  }

  /// Records that the loop's thread was preempted (it lost time to other work) while it
  /// polled, up to `now`: the adaptive mode pauses polling (a fixed window is the user's
  /// choice and stays).
  public mutating func preempted(at now: Instant) {
    guard case .adaptive = mode else { return }
    if let lastPreemption, now - lastPreemption <= contentionPause * 4 {
      contentionPause = min(contentionPause * 2, Self.maximumContentionPause)
    } else {
      contentionPause = Self.firstContentionPause
    }
    lastPreemption = now
    pausedUntil = now + contentionPause
  }

  /// Records a busy turn at `now` (one that found a descriptor ready: a frame, a socket, work
  /// from another thread), and adapts the window to the gap since the one before.
  public mutating func busyTurn(at now: Instant) {
    defer { lastBusyTurn = now }
    guard case .adaptive(let maximum) = mode else { return }
    if maximumShare < 100, let lastBusyTurn {
      // The loop polled from the last busy turn until now or the end of its window, if it
      // polled at all then (its window, pause and credit have not changed since).
      let gap = now - lastBusyTurn
      let polled = polls(at: lastBusyTurn) ? min(gap, window) : .zero
      pollingCredit = min(
        pollingCredit + gap * maximumShare / 100 - polled, Self.shareCreditLimit)
    }
    if let lastBusyTurn, now - lastBusyTurn <= maximum {
      window = maximum
    } else {
      window = window / 2
      if window < maximum / 8 { window = .zero }
    }
  }

  /// Words for status pages: "adaptive, up to 500 us", "fixed 300 us", "off".
  public var description: String {
    switch mode {
    case .off: "off"
    case .fixed(let window): "fixed \(window.microseconds) us"
    case .adaptive(let maximum) where maximumShare < 100:
      "adaptive, up to \(maximum.microseconds) us, at most \(maximumShare) % of the time"
    case .adaptive(let maximum): "adaptive, up to \(maximum.microseconds) us"
    }
  }
}
