import NetCore
import Testing

/// The straightforward RFC 1071 §4.1 algorithm, one big-endian 16-bit word at a time: the
/// reference the optimised `InternetChecksum` must agree with.
func referenceChecksum(_ bytes: [UInt8]) -> UInt16 {
  var sum: UInt64 = 0
  var index = 0
  while index + 1 < bytes.count {
    sum += UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
    index += 2
  }
  if index < bytes.count { sum += UInt64(bytes[index]) << 8 }
  while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
  return ~UInt16(sum)
}

/// `count` bytes from a seeded generator.
func randomBytes(_ count: Int, _ random: inout PseudoRandomGenerator) -> [UInt8] {
  (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
}

struct InternetChecksumTests {
  /// RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, so the checksum is 220d.
  @Test func rfc1071Example() {
    let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
    #expect(InternetChecksum.compute(bytes.span) == 0x220D)
    var sum = InternetChecksum()
    sum.add(bytes.span)
    #expect(sum.partialSum == 0xDDF2)
    #expect(sum.value == 0x220D)
  }

  /// The header of a Linux echo request (captured on a veth, see IPv4Tests' fixtures), with
  /// its checksum field zeroed, sums to the checksum Linux wrote: 0x053d.
  @Test func capturedIPv4Header() {
    var header: [UInt8] = [
      0x45, 0x00, 0x00, 0x54, 0x20, 0xD0, 0x40, 0x00, 0x40, 0x01, 0x05, 0x3D, 0x0A, 0x4D, 0x00,
      0x01, 0x0A, 0x4D, 0x00, 0x02,
    ]
    #expect(InternetChecksum.compute(header.span) == 0)
    var check = InternetChecksum()
    check.add(header.span)
    #expect(check.isValid)
    header[10] = 0
    header[11] = 0
    #expect(InternetChecksum.compute(header.span) == 0x053D)
    var unchecked = InternetChecksum()
    unchecked.add(header.span)
    #expect(!unchecked.isValid)
  }

  @Test func smallKnownValues() {
    #expect(InternetChecksum.compute([UInt8]().span) == 0xFFFF)
    #expect(InternetChecksum.compute([0x00].span) == 0xFFFF)
    #expect(InternetChecksum.compute([0x01].span) == 0xFEFF)
    #expect(InternetChecksum.compute([0x00, 0x01].span) == 0xFFFE)
    #expect(InternetChecksum.compute([0xFF, 0xFF].span) == 0x0000)
    // End-around carry: ffff + 0001 = 0001 (one's complement), not 0000.
    #expect(InternetChecksum.compute([0xFF, 0xFF, 0x00, 0x01].span) == 0xFFFE)
    #expect(InternetChecksum.compute([0x80, 0x00, 0x80, 0x00].span) == 0xFFFE)
  }

  @Test func agreesWithReferenceForEveryLengthUpTo200() {
    var random = PseudoRandomGenerator(seed: 1071)
    for length in 0...200 {
      for _ in 0..<20 {
        let bytes = randomBytes(length, &random)
        #expect(
          InternetChecksum.compute(bytes.span) == referenceChecksum(bytes), "length \(length)")
      }
    }
  }

  /// Sums with many carries: all 0xff and mostly-0xff data stress the folding.
  @Test(arguments: [0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 1499, 1500, 65535, 65536])
  func agreesWithReferenceOnSaturatedData(length: Int) {
    let ones = [UInt8](repeating: 0xFF, count: length)
    #expect(InternetChecksum.compute(ones.span) == referenceChecksum(ones))
    var almost = ones
    if length > 3 { almost[3] = 0xFE }
    #expect(InternetChecksum.compute(almost.span) == referenceChecksum(almost))
  }

  @Test(arguments: [1500, 9000, 65535, 65536, 1 << 20, (1 << 20) + 3])
  func agreesWithReferenceOnLargeBuffers(length: Int) {
    var random = PseudoRandomGenerator(seed: UInt64(length))
    let bytes = randomBytes(length, &random)
    #expect(InternetChecksum.compute(bytes.span) == referenceChecksum(bytes))
  }

  /// Misaligned spans (starting at every offset of an array) sum the same.
  @Test func misalignedSpans() {
    var random = PseudoRandomGenerator(seed: 7)
    let bytes = randomBytes(300, &random)
    for start in 0..<16 {
      for end in [start, start + 1, start + 17, 250, 299, 300] where end >= start {
        let expected = referenceChecksum(Array(bytes[start..<end]))
        #expect(InternetChecksum.compute(bytes.span.extracting(start..<end)) == expected)
      }
    }
  }

  /// RFC 1071 §2(A): the data may be summed in pieces, odd-length ones included.
  @Test func splitAddsGiveTheSameResult() {
    var random = PseudoRandomGenerator(seed: 42)
    for length in [0, 1, 2, 3, 9, 20, 57, 64, 199, 200, 1500] {
      let bytes = randomBytes(length, &random)
      let expected = referenceChecksum(bytes)
      // Every single split point.
      for split in 0...length {
        var sum = InternetChecksum()
        sum.add(bytes.span.extracting(0..<split))
        sum.add(bytes.span.extracting(split..<length))
        #expect(sum.value == expected, "length \(length) split \(split)")
      }
      // Many random splits into several pieces.
      for _ in 0..<50 {
        var sum = InternetChecksum()
        var offset = 0
        while offset < length {
          let piece = min(length - offset, Int(random.next(below: 12)))
          sum.add(bytes.span.extracting(offset..<(offset + piece)))
          offset += piece
        }
        #expect(sum.value == expected)
      }
      // One byte at a time.
      var bytewise = InternetChecksum()
      for index in 0..<length { bytewise.add(bytes.span.extracting(index..<(index + 1))) }
      #expect(bytewise.value == expected)
    }
  }

  /// Adding a 16-bit or 32-bit value is the same as adding its big-endian bytes, also after
  /// an odd number of bytes.
  @Test func addingWordsMatchesAddingBytes() {
    var random = PseudoRandomGenerator(seed: 99)
    for prefixLength in 0..<6 {
      let prefix = randomBytes(prefixLength, &random)
      let word = UInt16(truncatingIfNeeded: random.next())
      let long = UInt32(truncatingIfNeeded: random.next())
      let suffix = randomBytes(5, &random)

      var viaValues = InternetChecksum()
      viaValues.add(prefix.span)
      viaValues.add(word)
      viaValues.add(long)
      viaValues.add(IPv4Address(rawValue: long))
      viaValues.add(suffix.span)

      let wordBytes: [UInt8] = [UInt8(word >> 8), UInt8(word & 0xFF)]
      let longBytes: [UInt8] = (0..<4).map { UInt8(truncatingIfNeeded: long >> (24 - 8 * $0)) }
      let all = prefix + wordBytes + longBytes + longBytes + suffix
      #expect(viaValues.value == referenceChecksum(all), "prefix \(prefixLength)")
    }
  }

  /// A buffer with its checksum written in verifies, wherever the checksum field sits.
  @Test func isValidAfterInsertingTheChecksum() {
    var random = PseudoRandomGenerator(seed: 5)
    for length in stride(from: 2, through: 120, by: 2) {
      var bytes = randomBytes(length, &random)
      let field = Int(random.next(below: UInt64(length / 2))) * 2
      bytes[field] = 0
      bytes[field + 1] = 0
      let checksum = InternetChecksum.compute(bytes.span)
      bytes[field] = UInt8(checksum >> 8)
      bytes[field + 1] = UInt8(checksum & 0xFF)
      var verify = InternetChecksum()
      verify.add(bytes.span)
      #expect(verify.isValid)
      #expect(InternetChecksum.compute(bytes.span) == 0)
      // Any single-bit error is detected.
      let bit = Int(random.next(below: UInt64(length * 8)))
      bytes[bit / 8] ^= 1 << (bit % 8)
      var corrupted = InternetChecksum()
      corrupted.add(bytes.span)
      #expect(!corrupted.isValid)
    }
  }

  @Test func allZeroDataDoesNotVerify() {
    var sum = InternetChecksum()
    sum.add([UInt8](repeating: 0, count: 20).span)
    #expect(!sum.isValid)
    #expect(sum.partialSum == 0)
    #expect(sum.value == 0xFFFF)
  }
}
