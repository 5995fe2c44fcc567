import NetCore

/// The parsed meaning of an ICMPv6 header, and how to write a message (RFC 4443 §2.1).
public struct ICMPv6Header: Equatable, Sendable {
  public var type: ICMPv6Type
  public var code: UInt8
  /// The four bytes after the checksum (see ``ICMPv6Packet/restOfHeader``).
  public var restOfHeader: UInt32

  /// Bytes in the header, the four type-specific ones included.
  public static let length = 8

  public init(type: ICMPv6Type, code: UInt8, restOfHeader: UInt32 = 0) {
    self.type = type
    self.code = code
    self.restOfHeader = restOfHeader
  }

  /// An echo request or reply header (RFC 4443 §4).
  public static func echo(reply: Bool, identifier: UInt16, sequence: UInt16) -> ICMPv6Header {
    ICMPv6Header(
      type: reply ? .echoReply : .echoRequest, code: 0,
      restOfHeader: UInt32(identifier) << 16 | UInt32(sequence))
  }

  /// The echo identifier (upper half of the rest of the header).
  public var identifier: UInt16 { UInt16(truncatingIfNeeded: restOfHeader >> 16) }
  /// The echo sequence number (lower half of the rest of the header).
  public var sequence: UInt16 { UInt16(truncatingIfNeeded: restOfHeader) }

  /// Prepends this header to `packet`, whose data is the message body, and fills in the
  /// checksum over the pseudo-header of `source` and `destination`, header and body.
  public func prepend(to packet: PacketBuffer, source: IPv6Address, destination: IPv6Address) {
    packet.prepend(ICMPv6Header.length)
    packet.withMutableBytes { bytes in
      typealias Field = ICMPv6Packet.Field
      bytes[Field.type] = type.rawValue
      bytes[Field.code] = code
      bytes.setUInt16(0, at: Field.checksum)
      bytes.setUInt32(restOfHeader, at: Field.restOfHeader)
      var sum = InternetChecksum.ipv6PseudoHeader(
        source: source, destination: destination, nextHeader: .icmpv6, length: bytes.count)
      sum.add(bytes.span)
      bytes.setUInt16(sum.value, at: Field.checksum)
    }
  }
}
