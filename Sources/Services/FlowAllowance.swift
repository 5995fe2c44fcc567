/// A number of flows that several forwarders share, so that together they hold at most
/// ``limit`` (the published UDP ports of a daemon, whose flows each take one of the stack's
/// UDP endpoints). A forwarder takes a place before it opens a flow and gives it back when
/// the flow closes. One owner's loop only (not thread-safe, as the forwarders it serves).
public final class FlowAllowance: @unchecked Sendable {
  /// The most places taken at once.
  public let limit: Int
  /// The places taken now.
  public private(set) var taken = 0

  /// An allowance of `limit` places (at least one).
  public init(limit: Int) {
    self.limit = max(1, limit)
  }

  /// Takes a place; false when all ``limit`` are taken.
  public func take() -> Bool {
    guard taken < limit else { return false }
    taken += 1
    return true
  }

  /// Gives back a place taken earlier.
  public func giveBack() {
    taken = max(0, taken - 1)
  }
}
