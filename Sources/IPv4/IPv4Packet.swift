import NetCore

/// A received IPv4 packet, viewed in place and validated (RFC 791 §3.1, RFC 1122 §3.2.1).
///
/// ``init(checking:)`` is the only way to get one. It checks the version (4), the header
/// length (IHL ≥ 5 and within the bytes), the total length (at least the header, at most the
/// bytes: trailing link padding is cut off), the header checksum, and the syntax of any
/// options (each option's length inside the header). Field accessors then cannot go out of
/// bounds.
public struct IPv4Packet: ~Escapable {
  /// Exactly `totalLength` bytes: header, options and payload.
  public let bytes: Span<UInt8>

  /// Offsets of the fixed header fields.
  enum Field {
    static let versionAndHeaderLength = 0
    static let typeOfService = 1
    static let totalLength = 2
    static let identification = 4
    static let flagsAndFragmentOffset = 6
    static let timeToLive = 8
    static let protocolNumber = 9
    static let checksum = 10
    static let source = 12
    static let destination = 16
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= IPv4Header.length else { throw .truncated }
    let first = bytes[Field.versionAndHeaderLength]
    guard first >> 4 == 4 else { throw .unsupported }
    let headerLength = Int(first & 0x0F) * 4
    guard headerLength >= IPv4Header.length else { throw .badLength }
    guard bytes.count >= headerLength else { throw .truncated }
    let totalLength = Int(bytes.uint16(at: Field.totalLength))
    guard totalLength >= headerLength else { throw .badLength }
    guard totalLength <= bytes.count else { throw .truncated }
    let header = bytes.extracting(0..<headerLength)
    guard InternetChecksum.compute(header) == 0 else { throw .badChecksum }
    try IPv4Packet.checkOptions(header.extracting(droppingFirst: IPv4Header.length))
    self.bytes = bytes.extracting(0..<totalLength)
  }

  /// Walks the options (RFC 791 §3.1 "Options"): End of Option List and No Operation are one
  /// byte; every other option has a length byte of at least 2 that stays inside the header.
  static func checkOptions(_ options: Span<UInt8>) throws(WireError) {
    var offset = 0
    while offset < options.count {
      let type = options[offset]
      if type == 0 { return }
      if type == 1 {
        offset += 1
        continue
      }
      guard offset + 1 < options.count else { throw .badOption }
      let length = Int(options[offset + 1])
      guard length >= 2, offset + length <= options.count else { throw .badOption }
      offset += length
    }
  }

  /// Header length in bytes, options included (20 to 60).
  public var headerLength: Int { Int(bytes[Field.versionAndHeaderLength] & 0x0F) * 4 }
  public var typeOfService: UInt8 { bytes[Field.typeOfService] }
  public var totalLength: Int { bytes.count }
  public var identification: UInt16 { bytes.uint16(at: Field.identification) }
  /// The DF flag: the packet must not be fragmented.
  public var dontFragment: Bool { bytes[Field.flagsAndFragmentOffset] & 0x40 != 0 }
  /// The MF flag: more fragments follow this one.
  public var moreFragments: Bool { bytes[Field.flagsAndFragmentOffset] & 0x20 != 0 }
  /// Where this fragment's payload starts in the original datagram's payload, in bytes.
  public var fragmentOffset: Int {
    Int(bytes.uint16(at: Field.flagsAndFragmentOffset) & 0x1FFF) * 8
  }
  /// Whether this is a fragment (not a whole datagram).
  public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
  public var timeToLive: UInt8 { bytes[Field.timeToLive] }
  public var protocolNumber: IPProtocolNumber {
    IPProtocolNumber(rawValue: bytes[Field.protocolNumber])
  }
  public var source: IPv4Address { IPv4Address(bytes, at: Field.source) }
  public var destination: IPv4Address { IPv4Address(bytes, at: Field.destination) }

  /// The payload after header and options.
  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: headerLength) }
  }

  /// The parsed header (options are not kept).
  public var header: IPv4Header {
    IPv4Header(
      source: source, destination: destination, protocolNumber: protocolNumber,
      payloadLength: totalLength - headerLength, identification: identification,
      typeOfService: typeOfService, timeToLive: timeToLive, dontFragment: dontFragment,
      moreFragments: moreFragments, fragmentOffset: fragmentOffset)
  }
}
