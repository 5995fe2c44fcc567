import NetCore

/// A received IPv6 packet, viewed in place and validated (RFC 8200 §3).
///
/// ``init(checking:)`` is the only way to get one. It checks the version (6) and that the
/// bytes hold the fixed header and the payload length it states; bytes past that (link
/// padding) are cut off. Extension headers are walked separately
/// (``IPv6ExtensionHeaderWalker``), since what they mean depends on who receives them.
public struct IPv6Packet: ~Escapable {
  /// Exactly the fixed header and `payloadLength` bytes.
  public let bytes: Span<UInt8>

  /// Offsets of the fixed header's fields.
  public enum Field {
    public static let versionClassAndFlow = 0
    public static let payloadLength = 4
    public static let nextHeader = 6
    public static let hopLimit = 7
    public static let source = 8
    public static let destination = 24
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= IPv6Header.length else { throw .truncated }
    guard bytes[Field.versionClassAndFlow] >> 4 == 6 else { throw .unsupported }
    let total = IPv6Header.length + Int(bytes.uint16(at: Field.payloadLength))
    guard total <= bytes.count else { throw .truncated }
    self.bytes = bytes.extracting(0..<total)
  }

  public var trafficClass: UInt8 {
    UInt8(truncatingIfNeeded: bytes.uint32(at: Field.versionClassAndFlow) >> 20)
  }
  public var flowLabel: UInt32 { bytes.uint32(at: Field.versionClassAndFlow) & 0xF_FFFF }
  public var payloadLength: Int { Int(bytes.uint16(at: Field.payloadLength)) }
  public var nextHeader: IPv6NextHeader { IPv6NextHeader(rawValue: bytes[Field.nextHeader]) }
  public var hopLimit: UInt8 { bytes[Field.hopLimit] }
  public var source: IPv6Address { IPv6Address(bytes, at: Field.source) }
  public var destination: IPv6Address { IPv6Address(bytes, at: Field.destination) }

  /// Everything after the fixed header: extension headers and the upper layer.
  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: IPv6Header.length) }
  }

  /// The fixed header's meaning.
  public var header: IPv6Header {
    IPv6Header(
      source: source, destination: destination, nextHeader: nextHeader,
      payloadLength: payloadLength, hopLimit: hopLimit, trafficClass: trafficClass,
      flowLabel: flowLabel)
  }
}
