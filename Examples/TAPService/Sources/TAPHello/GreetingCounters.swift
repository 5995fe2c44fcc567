import Synchronization

/// What the "hello" service did, counted from every connection's task (atomics: the tasks
/// share it).
final class GreetingCounters: Sendable {
  private let greeted = Atomic<Int>(0)
  private let refused = Atomic<Int>(0)
  private let timedOut = Atomic<Int>(0)
  private let turnedAway = Atomic<Int>(0)
  private let active = Atomic<Int>(0)

  /// Takes a place for a new connection if fewer than `limit` are served; counts it as turned
  /// away if not.
  func admit(limit: Int) -> Bool {
    if active.add(1, ordering: .relaxed).newValue <= limit { return true }
    active.subtract(1, ordering: .relaxed)
    turnedAway.add(1, ordering: .relaxed)
    return false
  }

  /// Gives back the place of a connection that ended.
  func leave() { active.subtract(1, ordering: .relaxed) }

  /// A client got its greeting.
  func countGreeted() { greeted.add(1, ordering: .relaxed) }
  /// A client's line was too long.
  func countRefused() { refused.add(1, ordering: .relaxed) }
  /// A client sent no line in time and was reset.
  func countTimedOut() { timedOut.add(1, ordering: .relaxed) }

  /// One line for the exit report.
  var summary: String {
    "greeted \(greeted.load(ordering: .relaxed)), "
      + "line too long \(refused.load(ordering: .relaxed)), "
      + "timed out \(timedOut.load(ordering: .relaxed)), "
      + "turned away \(turnedAway.load(ordering: .relaxed))"
  }
}
