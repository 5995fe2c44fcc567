import NetCore

/// The host-wide limit on challenge ACKs (RFC 5961 §7), randomised as Linux's has been since
/// 4.7 (`tcp_send_challenge_ack`): each second allows between half and one and a half times
/// ``averagePerSecond``, the number drawn afresh every second. A fixed, global budget is a side
/// channel (CVE-2016-5696): an off-path attacker who exhausts it and counts the challenge ACKs
/// it still sees learns whether a guessed connection exists. Each connection is limited too
/// (one challenge every half second, `TCPConnection`), so one connection cannot spend the
/// whole allowance.
struct ChallengeAcknowledgmentLimiter {
  /// The average allowance per second (Linux `tcp_challenge_ack_limit` was 1000).
  static let averagePerSecond = 1000

  private var random: PseudoRandomGenerator
  private var epoch: Int64 = .min
  private var remaining = 0

  init(seed: UInt64) { random = PseudoRandomGenerator(seed: seed) }

  /// Takes one challenge ACK from this second's allowance; false when it is spent.
  mutating func allow(now: Instant) -> Bool {
    let second = now.nanoseconds / 1_000_000_000
    if second != epoch {
      epoch = second
      let limit = ChallengeAcknowledgmentLimiter.averagePerSecond
      remaining = (limit + 1) / 2 + Int(random.next() % UInt64(limit))
    }
    guard remaining > 0 else { return false }
    remaining -= 1
    return true
  }
}
