/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum
/// of the data taken as 16-bit big-endian words.
///
/// Used by IPv4, ICMP, UDP and TCP. Bytes are summed in the host's native order, eight at a
/// time, and the result is swapped once at the end (RFC 1071 §2(B): the sum is byte-order
/// independent). Data may be added in pieces of any length, odd ones included (§2(A)).
///
/// ```swift
/// var checksum = InternetChecksum()
/// checksum.add(pseudoHeader)
/// checksum.add(segmentBytes)
/// header.checksum = checksum.value
/// ```
public struct InternetChecksum: Sendable {
  /// Running sum of native-order 16-bit words, not yet folded.
  private var sum: UInt64 = 0
  /// Whether an odd number of bytes has been added so far.
  private var odd = false

  public init() {}

  /// Adds bytes to the sum.
  public mutating func add(_ bytes: Span<UInt8>) {
    var chunk = InternetChecksum.fold(InternetChecksum.nativeSum(bytes))
    if odd { chunk = UInt64(UInt16(truncatingIfNeeded: chunk).byteSwapped) }
    sum &+= chunk
    if bytes.count & 1 == 1 { odd.toggle() }
  }

  /// Adds a 16-bit field given as its value (as it reads in big-endian order).
  public mutating func add(_ word: UInt16) {
    var native = UInt64(word.bigEndian)
    if odd { native = UInt64(UInt16(truncatingIfNeeded: native).byteSwapped) }
    sum &+= native
  }

  /// Adds a 32-bit field given as its value.
  public mutating func add(_ word: UInt32) {
    add(UInt16(truncatingIfNeeded: word >> 16))
    add(UInt16(truncatingIfNeeded: word))
  }

  /// Adds an IPv4 address, as in the TCP and UDP pseudo-headers.
  public mutating func add(_ address: IPv4Address) { add(address.rawValue) }

  /// The one's complement sum so far, folded to 16 bits, as a big-endian value. Not
  /// complemented: this is what a header holding a partial (pseudo-header) checksum stores.
  public var partialSum: UInt16 {
    UInt16(bigEndian: UInt16(truncatingIfNeeded: InternetChecksum.fold(sum)))
  }

  /// The checksum to store in a header: the complement of the folded sum.
  public var value: UInt16 { ~partialSum }

  /// Whether the data added so far, checksum field included, verifies (sums to all ones).
  public var isValid: Bool { partialSum == 0xFFFF }

  /// The checksum of `bytes` alone.
  public static func compute(_ bytes: Span<UInt8>) -> UInt16 {
    var checksum = InternetChecksum()
    checksum.add(bytes)
    return checksum.value
  }

  /// Folds a 64-bit sum to 16 bits with end-around carries.
  @inline(__always)
  static func fold(_ value: UInt64) -> UInt64 {
    var folded = (value & 0xFFFF_FFFF) &+ (value >> 32)
    folded = (folded & 0xFFFF_FFFF) &+ (folded >> 32)
    folded = (folded & 0xFFFF) &+ (folded >> 16)
    folded = (folded & 0xFFFF) &+ (folded >> 16)
    return folded
  }

  /// Sums `bytes` as native-order 16-bit words (a trailing odd byte padded with zero as on
  /// the wire). Reads eight bytes at a time into two accumulators of 32-bit halves; each
  /// accumulator can take 2^32 such additions, far more than any packet.
  static func nativeSum(_ bytes: Span<UInt8>) -> UInt64 {
    bytes.withUnsafeBufferPointer { buffer -> UInt64 in
      guard let base = buffer.baseAddress else { return 0 }
      let raw = UnsafeRawPointer(base)
      let count = buffer.count
      var first: UInt64 = 0
      var second: UInt64 = 0
      var offset = 0
      while offset + 16 <= count {
        let a = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        let b = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
        first &+= (a & 0xFFFF_FFFF) &+ (a >> 32)
        second &+= (b & 0xFFFF_FFFF) &+ (b >> 32)
        offset += 16
      }
      if offset + 8 <= count {
        let a = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        first &+= (a & 0xFFFF_FFFF) &+ (a >> 32)
        offset += 8
      }
      if offset + 4 <= count {
        first &+= UInt64(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        offset += 4
      }
      if offset + 2 <= count {
        first &+= UInt64(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        offset += 2
      }
      if offset < count {
        let last = UInt64(raw.load(fromByteOffset: offset, as: UInt8.self))
        #if _endian(little)
          first &+= last
        #else
          first &+= last << 8
        #endif
      }
      return fold(first) &+ fold(second)
    }
  }
}
