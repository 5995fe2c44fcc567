import NetCore

/// A received ICMPv6 message, viewed in place (RFC 4443 §2.1).
///
/// ``init(checking:source:destination:)`` requires the 8 bytes every defined message has
/// (type, code, checksum and four bytes whose meaning depends on the type) and a checksum that
/// verifies over the IPv6 pseudo-header and the whole message (RFC 4443 §2.3, RFC 8200 §8.1).
public struct ICMPv6Packet: ~Escapable {
  public let bytes: Span<UInt8>

  /// Offsets of the header's fields.
  public enum Field {
    public static let type = 0
    public static let code = 1
    public static let checksum = 2
    public static let restOfHeader = 4
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>, source: IPv6Address, destination: IPv6Address)
    throws(WireError)
  {
    guard bytes.count >= ICMPv6Header.length else { throw .truncated }
    var sum = InternetChecksum.ipv6PseudoHeader(
      source: source, destination: destination, nextHeader: .icmpv6, length: bytes.count)
    sum.add(bytes)
    guard sum.isValid else { throw .badChecksum }
    self.bytes = bytes
  }

  public var type: ICMPv6Type { ICMPv6Type(rawValue: bytes[Field.type]) }
  public var code: UInt8 { bytes[Field.code] }
  /// The four bytes after the checksum: identifier and sequence of an echo, the MTU of a
  /// packet too big, the pointer of a parameter problem, flags of neighbour discovery.
  public var restOfHeader: UInt32 { bytes.uint32(at: Field.restOfHeader) }
  /// What follows the 8-byte header: echo data, the invoking packet of an error, the body of
  /// a neighbour discovery or MLD message.
  public var body: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: ICMPv6Header.length) }
  }

  public var header: ICMPv6Header {
    ICMPv6Header(type: type, code: code, restOfHeader: restOfHeader)
  }
}
