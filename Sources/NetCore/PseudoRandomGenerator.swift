/// A small, fast, seedable random number generator (xoshiro256**, seeded by SplitMix64).
///
/// The stack draws ephemeral ports, IP identifications, DHCP transaction IDs and the like from
/// one of these, seeded by the runtime (from the OS's entropy on Linux, from a fixed seed in
/// a deterministic simulation). Not for secrets on its own: TCP's ISN key (RFC 6528) is also
/// filled from it, so a runtime must seed it from real entropy.
public struct PseudoRandomGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose whole sequence is determined by `seed`.
  public init(seed: UInt64) {
    var splitMix = SplitMix64(state: seed)
    state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
  }

  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotateLeft(state.3, 45)
    return result
  }

  private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 {
    (value << count) | (value >> (64 - count))
  }

  /// A uniformly distributed value below `bound` (bound > 0).
  public mutating func next(below bound: UInt64) -> UInt64 {
    precondition(bound > 0)
    return next() % bound
  }

  /// True with probability `perMillion` / 1,000,000 (so 30,000 is 3%).
  public mutating func chance(perMillion: UInt64) -> Bool {
    next(below: 1_000_000) < perMillion
  }
}
