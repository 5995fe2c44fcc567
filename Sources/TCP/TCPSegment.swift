import NetCore

/// A received TCP segment, viewed in place (RFC 9293 §3.1).
///
/// ``init(checking:)`` requires the 20-byte header, a data offset of at least 5 words that
/// stays inside the bytes, and well-formed options. The checksum needs the IP addresses, so
/// it is checked separately by ``checksumIsValid(source:destination:)``.
public struct TCPSegment: ~Escapable {
  /// The whole segment: header, options and payload.
  public let bytes: Span<UInt8>
  /// The parsed options.
  public let options: TCPOptions

  /// Offsets of the fixed header fields.
  enum Field {
    static let sourcePort = 0
    static let destinationPort = 2
    static let sequenceNumber = 4
    static let acknowledgmentNumber = 8
    /// The data offset in the upper four bits (header length in 32-bit words).
    static let dataOffset = 12
    static let flags = 13
    static let window = 14
    static let checksum = 16
    static let urgentPointer = 18
    /// Where the options start.
    static let options = 20
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= TCPHeader.minimumLength else { throw .truncated }
    let headerLength = Int(bytes[Field.dataOffset] >> 4) * 4
    guard headerLength >= TCPHeader.minimumLength else { throw .badLength }
    guard headerLength <= bytes.count else { throw .truncated }
    options = try TCPOptions(parsing: bytes.extracting(Field.options..<headerLength))
    self.bytes = bytes
  }

  public var sourcePort: UInt16 { bytes.uint16(at: Field.sourcePort) }
  public var destinationPort: UInt16 { bytes.uint16(at: Field.destinationPort) }
  public var sequenceNumber: SequenceNumber {
    SequenceNumber(bytes.uint32(at: Field.sequenceNumber))
  }
  public var acknowledgmentNumber: SequenceNumber {
    SequenceNumber(bytes.uint32(at: Field.acknowledgmentNumber))
  }
  /// Header length in bytes, options included.
  public var headerLength: Int { Int(bytes[Field.dataOffset] >> 4) * 4 }
  public var flags: TCPFlags { TCPFlags(rawValue: bytes[Field.flags]) }
  /// The window field as sent (not yet scaled).
  public var window: UInt16 { bytes.uint16(at: Field.window) }
  public var checksum: UInt16 { bytes.uint16(at: Field.checksum) }
  public var urgentPointer: UInt16 { bytes.uint16(at: Field.urgentPointer) }

  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: headerLength) }
  }

  /// Sequence space the segment occupies: payload bytes, plus one each for SYN and FIN.
  public var sequenceLength: Int {
    payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
  }

  /// Whether the checksum verifies over the pseudo-header (of the addresses' family) and the
  /// segment.
  public func checksumIsValid(source: IPAddress, destination: IPAddress) -> Bool {
    var sum = TCPHeader.pseudoHeaderSum(
      source: source, destination: destination, length: bytes.count)
    sum.add(bytes)
    return sum.isValid
  }

  /// The parsed header.
  public var header: TCPHeader {
    TCPHeader(
      sourcePort: sourcePort, destinationPort: destinationPort, sequenceNumber: sequenceNumber,
      acknowledgmentNumber: acknowledgmentNumber, flags: flags, window: window,
      options: options)
  }
}
