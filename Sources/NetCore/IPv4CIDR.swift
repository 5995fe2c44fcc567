/// An IPv4 address with a prefix length: an interface address such as `10.0.0.2/24`, or a
/// network such as `10.0.0.0/24` (RFC 4632 notation).
public struct IPv4CIDR: Hashable, Sendable {
  /// The address (host bits may be set: this is an interface address).
  public let address: IPv4Address
  /// The number of leading network bits, 0 to 32.
  public let prefixLength: Int

  /// An address with a prefix length; the length must be 0–32.
  public init(address: IPv4Address, prefixLength: Int) {
    precondition(prefixLength >= 0 && prefixLength <= 32, "IPv4 prefix length out of range")
    self.address = address
    self.prefixLength = prefixLength
  }

  /// An address with the prefix length that `netmask` (contiguous ones) has; nil otherwise.
  public init?(address: IPv4Address, netmask: IPv4Address) {
    let ones = netmask.rawValue.nonzeroBitCount
    guard netmask.rawValue == IPv4CIDR.mask(ones) else { return nil }
    self.init(address: address, prefixLength: ones)
  }

  /// The netmask, `255.255.255.0` for /24.
  public var netmask: IPv4Address { IPv4Address(rawValue: IPv4CIDR.mask(prefixLength)) }
  /// The network address (host bits cleared).
  public var networkAddress: IPv4Address {
    IPv4Address(rawValue: address.rawValue & netmask.rawValue)
  }
  /// The subnet's directed broadcast address (host bits set); meaningless for /31 and /32.
  public var broadcastAddress: IPv4Address {
    IPv4Address(rawValue: address.rawValue | ~netmask.rawValue)
  }
  /// The network this address belongs to, as a CIDR with host bits cleared.
  public var network: IPv4CIDR { IPv4CIDR(address: networkAddress, prefixLength: prefixLength) }

  /// Whether `other` lies in this prefix.
  public func contains(_ other: IPv4Address) -> Bool {
    other.rawValue & netmask.rawValue == address.rawValue & netmask.rawValue
  }

  /// Whether `other` is this subnet's directed broadcast address (not for /31, /32).
  public func isDirectedBroadcast(_ other: IPv4Address) -> Bool {
    prefixLength <= 30 && other == broadcastAddress
  }

  /// The mask with `ones` leading one bits.
  static func mask(_ ones: Int) -> UInt32 {
    ones == 0 ? 0 : UInt32.max << UInt32(32 - ones)
  }

  /// Parses `a.b.c.d/n`.
  public init(parsing text: String) throws(AddressParseError) {
    let utf8 = Array(text.utf8)
    guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else {
      throw .invalidPrefixLength(text)
    }
    guard let address = parseDottedQuad(utf8[..<slash]) else { throw .invalidIPv4Address(text) }
    let digits = utf8[(slash + 1)...]
    guard !digits.isEmpty, digits.count <= 2 else { throw .invalidPrefixLength(text) }
    var length = 0
    for byte in digits {
      guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
        throw .invalidPrefixLength(text)
      }
      length = length * 10 + Int(byte - UInt8(ascii: "0"))
    }
    guard length <= 32 else { throw .invalidPrefixLength(text) }
    self.init(address: IPv4Address(rawValue: address), prefixLength: length)
  }
}

extension IPv4CIDR: CustomStringConvertible {
  public var description: String { "\(address)/\(prefixLength)" }
}
