/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// 2014): a 64-bit counter advanced by the golden ratio and passed through a finaliser in
/// which every input bit affects every output bit. ``PseudoRandomGenerator`` seeds its state
/// with it; the unikernel's `BootEntropy` folds its entropy samples through it.
public struct SplitMix64: Sendable {
  public var state: UInt64

  public init(state: UInt64) { self.state = state }

  /// Advances the counter and returns the finalised value.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
