import NetCore
import Testing

/// SipHash-2-4 against the reference vectors of Aumasson and Bernstein ("SipHash: a fast
/// short-input PRF", 2012; `vectors.h` of the reference implementation): key 00 01 … 0f,
/// message 00 01 … (n − 1). The implementation hashes whole 64-bit little-endian words, so
/// the vectors for 0, 8, 16, 24 and 32 bytes apply.
struct SipHashTests {
  static let key0: UInt64 = 0x0706_0504_0302_0100
  static let key1: UInt64 = 0x0f0e_0d0c_0b0a_0908

  /// The message 00 01 … (8 × count − 1) as little-endian words.
  static func words(_ count: Int) -> [UInt64] {
    var words: [UInt64] = []
    for index in 0..<count {
      var word: UInt64 = 0
      for byte in 0..<8 {
        let value = UInt64(8 * index + byte)
        word |= value << UInt64(8 * byte)
      }
      words.append(word)
    }
    return words
  }

  @Test(arguments: [
    (0, UInt64(0x726f_db47_dd0e_0e31)),  // vectors.h: 31 0e 0e dd 47 db 6f 72
    (1, 0x93f5_f579_9a93_2462),  // 62 24 93 9a 79 f5 f5 93
    (2, 0x3f2a_cc7f_57c2_9bdb),  // db 9b c2 57 7f cc 2a 3f
    (3, 0xb8ad_50c6_f649_af94),  // 94 af 49 f6 c6 50 ad b8
    (4, 0x7127_512f_72f2_7cce),  // ce 7c f2 72 2f 51 27 71
  ])
  func referenceVectors(words count: Int, expected: UInt64) {
    let hasher = SipHash(key0: Self.key0, key1: Self.key1)
    #expect(hasher.hash(Self.words(count)) == expected)
  }

  @Test func variadicFormIsTheSame() {
    let hasher = SipHash(key0: Self.key0, key1: Self.key1)
    let words = Self.words(3)
    #expect(hasher.hash(words[0], words[1], words[2]) == 0xb8ad_50c6_f649_af94)
  }

  @Test func keyMatters() {
    let a = SipHash(key0: 1, key1: 2)
    let b = SipHash(key0: 1, key1: 3)
    #expect(a.hash(42) != b.hash(42))
    // A second hasher with the same key gives the same answer: nothing but the key and the
    // input goes into the hash.
    #expect(SipHash(key0: 1, key1: 2).hash(42) == a.hash(42))
    #expect(a.hash(42) != a.hash(43))
  }
}
