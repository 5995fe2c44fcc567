import NetCore

/// The seed of the stack's secrets: the RFC 6528 §3 key of initial sequence numbers, the
/// SYN-cookie key and the ephemeral-port order all derive from it, so it must not be
/// guessable from outside.
///
/// Xen offers a guest no random source, so the unikernel takes 64 bits from the CPU's random
/// number generator (RDRAND, RNDR) when it has one, and mixes in the jitter of the clock over
/// a few hundred short busy loops (the bootstrap MirageOS's entropy code also uses on Xen).
/// Without a hardware generator the jitter is all there is, and the boot report says so.
public struct BootEntropy {
  /// The seed for `DirectStackConfiguration.seed`.
  public var seed: UInt64
  /// Where it came from, for the boot report.
  public var source: String

  /// How many clock readings are mixed in.
  static let jitterSamples = 256

  /// Gathers the seed: the hardware generator's bits (if any), then the clock's jitter.
  public static func gather<Architecture: GuestArchitecture>(_ architecture: Architecture)
    -> BootEntropy
  {
    var pool: UInt64 = 0
    let hardware = architecture.hardwareRandom()
    if let hardware { pool = mix(pool, hardware) }
    var work: UInt64 = 1
    var previous = architecture.systemTime()
    for _ in 0..<jitterSamples {
      // A little dependent arithmetic between readings, so that their spacing depends on
      // the pipeline, caches and the hypervisor's interruptions.
      for round in 0..<16 { work = mix(work, UInt64(round)) }
      let time = architecture.systemTime()
      pool = mix(pool, (time &- previous) ^ work)
      previous = time
    }
    pool = mix(pool, previous)
    let source =
      hardware != nil
      ? "\(architecture.hardwareRandomName) and clock jitter"
      : "clock jitter only (no \(architecture.hardwareRandomName) on this CPU)"
    return BootEntropy(seed: pool, source: source)
  }

  /// Folds `value` into `state`: one step of ``SplitMix64`` from their sum, so that every
  /// input bit affects every output bit.
  static func mix(_ state: UInt64, _ value: UInt64) -> UInt64 {
    var splitMix = SplitMix64(state: state &+ value)
    return splitMix.next()
  }
}
