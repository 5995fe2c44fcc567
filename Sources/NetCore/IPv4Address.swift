/// A 32-bit IPv4 address (RFC 791 §3.1).
///
/// `rawValue` holds the address as a number, first octet most significant (10.0.0.1 is
/// 0x0A00_0001), whatever the host's byte order. Text form: dotted quad, `10.0.0.1`.
public struct IPv4Address: Hashable, Comparable, Sendable {
  /// The address as a number, first octet most significant.
  public let rawValue: UInt32

  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// The address `a.b.c.d`.
  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
  }

  /// Reads four octets at `offset` (the caller has checked the length).
  public init(_ bytes: Span<UInt8>, at offset: Int) {
    rawValue = bytes.uint32(at: offset)
  }

  /// `0.0.0.0`: "this host" as a source, "any" when binding.
  public static let any = IPv4Address(rawValue: 0)
  /// `255.255.255.255`: the limited broadcast address.
  public static let broadcast = IPv4Address(rawValue: 0xFFFF_FFFF)

  /// Whether this is 0.0.0.0.
  public var isUnspecified: Bool { rawValue == 0 }
  /// Whether this is the limited broadcast address.
  public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF }
  /// Whether this is in 224.0.0.0/4 (class D).
  public var isMulticast: Bool { rawValue >> 28 == 0xE }
  /// Whether this is in 127.0.0.0/8.
  public var isLoopback: Bool { rawValue >> 24 == 127 }
  /// Whether this is in 169.254.0.0/16 (RFC 3927).
  public var isLinkLocal: Bool { rawValue >> 16 == 0xA9FE }
  /// Whether this is in 240.0.0.0/4 (reserved, class E), broadcast included.
  public var isReserved: Bool { rawValue >> 28 == 0xF }
  /// Whether the address can name a single host: not 0.0.0.0, multicast, class E or broadcast.
  public var isUnicast: Bool { !isUnspecified && !isMulticast && !isReserved }

  /// The octet at `index` (0 is the first on the wire).
  public func octet(_ index: Int) -> UInt8 {
    precondition(index >= 0 && index < 4)
    return UInt8(truncatingIfNeeded: rawValue >> UInt32(24 - 8 * index))
  }

  /// Writes the four octets at `offset`.
  public func write(to bytes: inout MutableSpan<UInt8>, at offset: Int) {
    bytes.setUInt32(rawValue, at: offset)
  }

  public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }

  /// Parses a dotted quad: exactly four decimal parts 0–255, no signs, spaces or leading zeros.
  public init(parsing text: String) throws(AddressParseError) {
    guard let value = parseDottedQuad(text.utf8) else { throw .invalidIPv4Address(text) }
    rawValue = value
  }
}

extension IPv4Address: CustomStringConvertible {
  public var description: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(15)
    for index in 0..<4 {
      if index > 0 { bytes.append(UInt8(ascii: ".")) }
      appendDecimal(UInt32(octet(index)), to: &bytes)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// Parses `a.b.c.d` from UTF-8 bytes; nil unless it is exactly that.
func parseDottedQuad<Bytes: Collection<UInt8>>(_ text: Bytes) -> UInt32? {
  var value: UInt32 = 0
  var parts = 0
  var part: UInt32 = 0
  var digits = 0
  var leadingZero = false
  for byte in text {
    if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
      if digits == 1 && leadingZero { return nil }
      if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
      part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
      digits += 1
      guard part <= 255 else { return nil }
    } else if byte == UInt8(ascii: ".") {
      guard digits > 0, parts < 3 else { return nil }
      value = value << 8 | part
      parts += 1
      part = 0
      digits = 0
    } else {
      return nil
    }
  }
  guard parts == 3, digits > 0 else { return nil }
  return value << 8 | part
}

/// Appends the decimal digits of `number`.
func appendDecimal(_ number: UInt32, to bytes: inout [UInt8]) {
  if number >= 10 { appendDecimal(number / 10, to: &bytes) }
  bytes.append(UInt8(ascii: "0") + UInt8(number % 10))
}
