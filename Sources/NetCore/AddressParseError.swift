/// Why a text form of an address, prefix or MAC could not be parsed.
///
/// The daemon turns these into one-line errors naming the option that was wrong.
public enum AddressParseError: Error, Equatable, Sendable {
  /// Not a dotted-quad IPv4 address (four decimal numbers 0–255, no leading zeros).
  case invalidIPv4Address(String)
  /// The part after `/` is not a number from 0 to 32, or there is no `/`.
  case invalidPrefixLength(String)
  /// Not six pairs of hexadecimal digits separated by `:` or `-`.
  case invalidMACAddress(String)
  /// Not an IPv6 address in a form of RFC 4291 §2.2.
  case invalidIPv6Address(String)
  /// The part after `/` is not a number from 0 to 128, or there is no `/`.
  case invalidIPv6PrefixLength(String)
}

extension AddressParseError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .invalidIPv4Address(let text): "'\(text)' is not an IPv4 address (expected a.b.c.d)"
    case .invalidPrefixLength(let text):
      "'\(text)' is not an address with a prefix length 0-32 (expected a.b.c.d/n)"
    case .invalidMACAddress(let text): "'\(text)' is not a MAC address (expected xx:xx:xx:xx:xx:xx)"
    case .invalidIPv6Address(let text):
      "'\(text)' is not an IPv6 address (expected e.g. 2001:db8::1)"
    case .invalidIPv6PrefixLength(let text):
      "'\(text)' is not an IPv6 address with a prefix length 0-128 (expected e.g. 2001:db8::1/64)"
    }
  }
}
