import NetCore

/// What all connections of one TCP layer share: the counters, the stack's memory budget and
/// the host-wide limit on challenge ACKs.
final class TCPSharedState {
  var counters = TCPCounters()
  /// Where every connection's buffers are charged.
  let budget: MemoryBudget
  /// The host-wide, randomised limit on challenge ACKs (RFC 5961 §7).
  var challengeAcknowledgments: ChallengeAcknowledgmentLimiter

  init(budget: MemoryBudget, seed: UInt64) {
    self.budget = budget
    challengeAcknowledgments = ChallengeAcknowledgmentLimiter(seed: seed)
  }
}
