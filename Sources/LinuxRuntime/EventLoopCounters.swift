/// What an ``EventLoop`` did: how often it slept and polled, and whether the turns that found a
/// descriptor ready (a frame, a socket, work handed over from another thread) came after a
/// sleep (a wake-up) or after a poll (``BusyPollPolicy``).
public struct EventLoopCounters: Sendable, Equatable {
  /// `epoll_wait` calls that could block (a timeout other than zero).
  public var sleeps: UInt64 = 0
  /// `epoll_wait` calls with a zero timeout because the busy-poll policy said to poll.
  public var polls: UInt64 = 0
  /// Turns that found a descriptor ready after a sleep: each was a wake-up of the loop's
  /// thread.
  public var busyTurnsAfterSleep: UInt64 = 0
  /// Turns that found a descriptor ready in the loop's polling window: no wake-up was needed.
  public var busyTurnsAfterPoll: UInt64 = 0

  /// Times the thread was found preempted while it polled (it lost more than 200 µs to other
  /// work): the adaptive policy pauses polling then (``BusyPollPolicy/preempted(at:)``).
  public var pollingPreempted: UInt64 = 0

  /// No counts yet.
  public init() {}

  /// Calls `body` with each counter's name (`snake_case`, for status pages) and value.
  public func forEachCounter(_ body: (String, UInt64) -> Void) {
    body("sleeps", sleeps)
    body("polls", polls)
    body("busy_turns_after_sleep", busyTurnsAfterSleep)
    body("busy_turns_after_poll", busyTurnsAfterPoll)
    body("polling_preempted", pollingPreempted)
  }
}
