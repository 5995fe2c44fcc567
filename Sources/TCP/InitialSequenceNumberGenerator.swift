import NetCore

/// Chooses initial sequence numbers as RFC 6528 §3 asks: `ISN = M + F(4-tuple, secret)`,
/// where M is a clock ticking every 4 microseconds and F a keyed hash (SipHash-2-4) of the
/// connection's addresses and ports.
///
/// Different connections get unpredictable ISNs; successive connections with the same 4-tuple
/// get increasing ones, which is what lets a new SYN reuse a 4-tuple in TIME-WAIT.
public struct InitialSequenceNumberGenerator: Sendable {
  private let hasher: SipHash

  /// A generator keyed with 128 secret bits.
  public init(key0: UInt64, key1: UInt64) {
    hasher = SipHash(key0: key0, key1: key1)
  }

  /// The ISN for a connection on `tuple` opened at `now`.
  public func isn(for tuple: TCPFourTuple, now: Instant) -> SequenceNumber {
    let offset = UInt32(truncatingIfNeeded: hasher.hash(tuple.words))
    let ticks = UInt32(truncatingIfNeeded: now.nanoseconds / 4_000)
    return SequenceNumber(ticks &+ offset)
  }
}
