/// SipHash-2-4, a keyed pseudo-random function (Aumasson and Bernstein, 2012): the keyed hash
/// behind initial sequence numbers (RFC 6528) and SYN cookies, as Linux uses it.
///
/// Hashes a short message of 64-bit words; written out by hand because the protocol modules
/// may use the standard library only.
public struct SipHash: Sendable {
  public let key0: UInt64
  public let key1: UInt64

  public init(key0: UInt64, key1: UInt64) {
    self.key0 = key0
    self.key1 = key1
  }

  /// The 64-bit hash of `words` (each taken as eight little-endian bytes).
  public func hash(_ words: UInt64...) -> UInt64 { hash(words) }

  /// The 64-bit hash of `words`.
  public func hash(_ words: [UInt64]) -> UInt64 {
    var v0: UInt64 = 0x736f_6d65_7073_6575 ^ key0
    var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ key1
    var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ key0
    var v3: UInt64 = 0x7465_6462_7974_6573 ^ key1

    func rotate(_ value: UInt64, _ count: UInt64) -> UInt64 {
      (value << count) | (value >> (64 - count))
    }
    func round() {
      v0 &+= v1
      v1 = rotate(v1, 13)
      v1 ^= v0
      v0 = rotate(v0, 32)
      v2 &+= v3
      v3 = rotate(v3, 16)
      v3 ^= v2
      v0 &+= v3
      v3 = rotate(v3, 21)
      v3 ^= v0
      v2 &+= v1
      v1 = rotate(v1, 17)
      v1 ^= v2
      v2 = rotate(v2, 32)
    }
    for word in words {
      v3 ^= word
      round()
      round()
      v0 ^= word
    }
    // Final block: no leftover bytes, the message length in the top byte.
    let last = UInt64(truncatingIfNeeded: words.count * 8) << 56
    v3 ^= last
    round()
    round()
    v0 ^= last
    v2 ^= 0xFF
    round()
    round()
    round()
    round()
    return v0 ^ v1 ^ v2 ^ v3
  }
}
