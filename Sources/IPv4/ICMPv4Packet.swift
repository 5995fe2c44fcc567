import NetCore

/// A received ICMPv4 message, viewed in place (RFC 792).
///
/// ``init(checking:)`` requires the 8-byte header and a valid checksum over the whole
/// message.
public struct ICMPv4Packet: ~Escapable {
  public let bytes: Span<UInt8>

  /// Offsets of the header fields.
  enum Field {
    static let type = 0
    static let code = 1
    static let checksum = 2
    static let restOfHeader = 4
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= ICMPv4Header.length else { throw .truncated }
    guard InternetChecksum.compute(bytes) == 0 else { throw .badChecksum }
    self.bytes = bytes
  }

  public var type: ICMPv4Type { ICMPv4Type(rawValue: bytes[Field.type]) }
  public var code: UInt8 { bytes[Field.code] }
  /// The four bytes after the checksum; their meaning depends on the type.
  public var restOfHeader: UInt32 { bytes.uint32(at: Field.restOfHeader) }
  /// Data after the 8-byte header: echo data, or the quoted datagram of an error.
  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: ICMPv4Header.length) }
  }

  public var header: ICMPv4Header {
    ICMPv4Header(type: type, code: code, restOfHeader: restOfHeader)
  }
}

/// The ICMPv4 type field (RFC 792); an open set.
public struct ICMPv4Type: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let echoReply = ICMPv4Type(rawValue: 0)
  public static let destinationUnreachable = ICMPv4Type(rawValue: 3)
  public static let sourceQuench = ICMPv4Type(rawValue: 4)
  public static let redirect = ICMPv4Type(rawValue: 5)
  public static let echoRequest = ICMPv4Type(rawValue: 8)
  public static let timeExceeded = ICMPv4Type(rawValue: 11)
  public static let parameterProblem = ICMPv4Type(rawValue: 12)

  /// Whether this is an error message, which must never be answered by another error
  /// (RFC 1122 §3.2.2).
  public var isError: Bool {
    switch self {
    case .destinationUnreachable, .sourceQuench, .redirect, .timeExceeded, .parameterProblem:
      true
    default:
      false
    }
  }
}

/// Codes of destination unreachable messages (RFC 792, RFC 1122 §3.2.2.1).
public enum ICMPv4UnreachableCode: UInt8, Sendable {
  case network = 0
  case host = 1
  case protocolUnreachable = 2
  case port = 3
  case fragmentationNeeded = 4
  /// Communication administratively prohibited: a router's filter refused the datagram (RFC
  /// 1812 §5.2.7.1).
  case administrativelyProhibited = 13
}

/// The parsed meaning of an ICMPv4 header, and how to write a message (RFC 792).
public struct ICMPv4Header: Equatable, Sendable {
  public var type: ICMPv4Type
  public var code: UInt8
  /// Identifier and sequence number for echo; the next-hop MTU for "fragmentation needed"
  /// (RFC 1191); zero for other errors.
  public var restOfHeader: UInt32

  /// Bytes in the header.
  public static let length = 8

  public init(type: ICMPv4Type, code: UInt8, restOfHeader: UInt32 = 0) {
    self.type = type
    self.code = code
    self.restOfHeader = restOfHeader
  }

  /// An echo request or reply header.
  public static func echo(reply: Bool, identifier: UInt16, sequence: UInt16) -> ICMPv4Header {
    ICMPv4Header(
      type: reply ? .echoReply : .echoRequest, code: 0,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequence))
  }

  /// The echo identifier (upper half of the rest of the header).
  public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
  /// The echo sequence number (lower half of the rest of the header).
  public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }

  /// Prepends this header to `packet`, whose data is the message body, and fills in the
  /// checksum over header and body.
  public func prepend(to packet: PacketBuffer) {
    packet.prepend(ICMPv4Header.length)
    packet.withMutableBytes { bytes in
      typealias Field = ICMPv4Packet.Field
      bytes[Field.type] = type.rawValue
      bytes[Field.code] = code
      bytes.setUInt16(0, at: Field.checksum)
      bytes.setUInt32(restOfHeader, at: Field.restOfHeader)
      let checksum = InternetChecksum.compute(bytes.span)
      bytes.setUInt16(checksum, at: Field.checksum)
    }
  }
}
