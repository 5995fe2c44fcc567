import NetCore

/// A received Ethernet II frame, viewed in place: destination, source, EtherType, payload.
///
/// The only way to get one is ``init(checking:)``, which guarantees the 14-byte header is
/// there; the frame check sequence is not part of what devices hand the stack.
public struct EthernetFrame: ~Escapable {
  /// The whole frame.
  public let bytes: Span<UInt8>

  /// Offsets of the header fields.
  enum Field {
    static let destination = 0
    static let source = 6
    static let etherType = 12
  }

  /// Views `bytes` as a frame; throws `.truncated` if it is shorter than the header.
  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= EthernetHeader.length else { throw .truncated }
    self.bytes = bytes
  }

  public var destination: MACAddress { MACAddress(bytes, at: Field.destination) }
  public var source: MACAddress { MACAddress(bytes, at: Field.source) }
  public var etherType: EtherType { EtherType(rawValue: bytes.uint16(at: Field.etherType)) }

  /// Everything after the header (may include padding up to the 60-byte minimum frame).
  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: EthernetHeader.length) }
  }

  /// The parsed header.
  public var header: EthernetHeader {
    EthernetHeader(destination: destination, source: source, etherType: etherType)
  }
}
