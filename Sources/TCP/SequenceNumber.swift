/// A TCP sequence number: 32-bit arithmetic modulo 2^32, compared by the sign of the
/// difference (RFC 9293 §3.4, "sequence numbers ... the comparisons must use modulo
/// arithmetic"), as gVisor's `seqnum` package does.
///
/// `a < b` means "a comes before b", which is only meaningful for numbers less than 2^31
/// apart, which every window is.
public struct SequenceNumber: Hashable, Comparable, Sendable {
  public var rawValue: UInt32

  public init(_ rawValue: UInt32) { self.rawValue = rawValue }

  public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
    Int32(bitPattern: lhs.rawValue &- rhs.rawValue) < 0
  }

  /// The number `count` bytes further on.
  public static func + (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
    SequenceNumber(lhs.rawValue &+ UInt32(truncatingIfNeeded: rhs))
  }

  public static func += (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs + rhs }

  /// The number `count` bytes earlier.
  public static func - (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
    SequenceNumber(lhs.rawValue &- UInt32(truncatingIfNeeded: rhs))
  }

  /// Bytes from `rhs` to `lhs` (negative when `lhs` comes first).
  public static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int {
    Int(Int32(bitPattern: lhs.rawValue &- rhs.rawValue))
  }

  /// Whether this lies in `[start, start + length)`.
  public func isInWindow(start: SequenceNumber, length: Int) -> Bool {
    let offset = self - start
    return offset >= 0 && offset < length
  }
}

extension SequenceNumber: CustomStringConvertible {
  public var description: String { "\(rawValue)" }
}
