/// A 48-bit IEEE 802 MAC address (an Ethernet hardware address).
///
/// Stored as the 48 low bits of an integer, first octet most significant, so that comparison
/// and hashing are single-word operations. Text form: `02:00:5e:00:00:01`.
public struct MACAddress: Hashable, Sendable {
  /// The address as a 48-bit number; the first octet on the wire is bits 47–40.
  public let rawValue: UInt64

  /// The address from its 48-bit value (higher bits must be zero).
  public init(rawValue: UInt64) {
    precondition(rawValue >> 48 == 0, "MAC address wider than 48 bits")
    self.rawValue = rawValue
  }

  /// The address from its six octets in wire order.
  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) {
    rawValue =
      UInt64(a) << 40 | UInt64(b) << 32 | UInt64(c) << 24 | UInt64(d) << 16 | UInt64(e) << 8
      | UInt64(f)
  }

  /// Reads six octets at `offset` (the caller has checked the length).
  public init(_ bytes: Span<UInt8>, at offset: Int) {
    var value: UInt64 = 0
    for index in offset..<(offset + 6) { value = value << 8 | UInt64(bytes[index]) }
    rawValue = value
  }

  /// `ff:ff:ff:ff:ff:ff`.
  public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)
  /// `00:00:00:00:00:00`, used as the unknown target of an ARP request.
  public static let zero = MACAddress(rawValue: 0)

  /// The octet at `index` (0 is the first on the wire).
  public func octet(_ index: Int) -> UInt8 {
    precondition(index >= 0 && index < 6)
    return UInt8(truncatingIfNeeded: rawValue >> UInt64(40 - 8 * index))
  }

  /// Whether this is the all-ones broadcast address.
  public var isBroadcast: Bool { self == .broadcast }
  /// Whether the group bit (least significant bit of the first octet) is set; includes broadcast.
  public var isMulticast: Bool { octet(0) & 0x01 != 0 }
  /// Whether this is an individual (unicast) address.
  public var isUnicast: Bool { !isMulticast }
  /// Whether the locally-administered bit is set (as for addresses a program makes up).
  public var isLocallyAdministered: Bool { octet(0) & 0x02 != 0 }

  /// The Ethernet multicast address for an IPv4 multicast group (RFC 1112 §6.4).
  public init(multicast group: IPv4Address) {
    rawValue = 0x0100_5E00_0000 | UInt64(group.rawValue & 0x007F_FFFF)
  }

  /// The Ethernet multicast address for an IPv6 multicast group: `33:33` and the group's last
  /// four octets (RFC 2464 §7).
  public init(multicast group: IPv6Address) {
    rawValue = 0x3333_0000_0000 | (group.low & 0xFFFF_FFFF)
  }

  /// Writes the six octets at `offset`.
  public func write(to bytes: inout MutableSpan<UInt8>, at offset: Int) {
    for index in 0..<6 { bytes[offset + index] = octet(index) }
  }

  /// Parses `xx:xx:xx:xx:xx:xx` (or with `-`); each part one or two hexadecimal digits.
  public init(parsing text: String) throws(AddressParseError) {
    var value: UInt64 = 0
    var parts = 0
    var digits = 0
    var current: UInt64 = 0
    var separator: UInt8? = nil
    for byte in text.utf8 {
      if let digit = hexValue(byte) {
        digits += 1
        guard digits <= 2 else { throw .invalidMACAddress(text) }
        current = current << 4 | UInt64(digit)
      } else if byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-") {
        if separator == nil { separator = byte }
        guard byte == separator, digits > 0, parts < 5 else { throw .invalidMACAddress(text) }
        value = value << 8 | current
        parts += 1
        digits = 0
        current = 0
      } else {
        throw .invalidMACAddress(text)
      }
    }
    guard parts == 5, digits > 0 else { throw .invalidMACAddress(text) }
    rawValue = value << 8 | current
  }
}

extension MACAddress: CustomStringConvertible {
  /// Lower-case, colon-separated: `02:00:5e:00:00:01`.
  public var description: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(17)
    for index in 0..<6 {
      if index > 0 { bytes.append(UInt8(ascii: ":")) }
      appendHexByte(octet(index), to: &bytes)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// The value of one ASCII hexadecimal digit, or nil.
func hexValue(_ byte: UInt8) -> UInt8? {
  switch byte {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
  case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
  case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
  default: nil
  }
}

/// Appends two lower-case hexadecimal digits for `byte`.
func appendHexByte(_ byte: UInt8, to bytes: inout [UInt8]) {
  let digits: StaticString = "0123456789abcdef"
  digits.withUTF8Buffer { table in
    bytes.append(table[Int(byte >> 4)])
    bytes.append(table[Int(byte & 0x0F)])
  }
}
