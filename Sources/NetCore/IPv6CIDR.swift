/// An IPv6 address with a prefix length (RFC 4291 §2.3): an interface address such as
/// `2001:db8::2/64`, or a prefix such as `2001:db8::/64`.
public struct IPv6CIDR: Hashable, Sendable {
  /// The address (bits after the prefix may be set: this is an interface address).
  public let address: IPv6Address
  /// The number of leading prefix bits, 0 to 128.
  public let prefixLength: Int

  /// An address with a prefix length; the length must be 0–128.
  public init(address: IPv6Address, prefixLength: Int) {
    precondition(prefixLength >= 0 && prefixLength <= 128, "IPv6 prefix length out of range")
    self.address = address
    self.prefixLength = prefixLength
  }

  /// The prefix itself (bits after the prefix length cleared).
  public var prefix: IPv6Address { address.masked(prefixLength: prefixLength) }
  /// The prefix as a CIDR with the bits after it cleared.
  public var network: IPv6CIDR { IPv6CIDR(address: prefix, prefixLength: prefixLength) }

  /// Whether `other` lies in this prefix.
  public func contains(_ other: IPv6Address) -> Bool {
    other.masked(prefixLength: prefixLength) == prefix
  }

  /// Parses `ADDRESS/LENGTH` (the address in any form of RFC 4291 §2.2, the length 0–128 in
  /// decimal without leading zeros).
  public init(parsing text: String) throws(AddressParseError) {
    let utf8 = Array(text.utf8)
    guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else {
      throw .invalidIPv6PrefixLength(text)
    }
    guard let (high, low) = parseIPv6Groups(Array(utf8[..<slash])) else {
      throw .invalidIPv6Address(text)
    }
    let digits = utf8[(slash + 1)...]
    guard !digits.isEmpty, digits.count <= 3,
      digits.count == 1 || digits.first != UInt8(ascii: "0")
    else { throw .invalidIPv6PrefixLength(text) }
    var length = 0
    for byte in digits {
      guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
        throw .invalidIPv6PrefixLength(text)
      }
      length = length * 10 + Int(byte - UInt8(ascii: "0"))
    }
    guard length <= 128 else { throw .invalidIPv6PrefixLength(text) }
    self.init(address: IPv6Address(high: high, low: low), prefixLength: length)
  }
}

extension IPv6CIDR: CustomStringConvertible {
  public var description: String { "\(address)/\(prefixLength)" }
}
