import NetCore

/// A received UDP datagram, viewed in place (RFC 768).
///
/// ``init(checking:)`` requires the 8-byte header and a length field between 8 and the bytes
/// available (bytes past it are cut off). The checksum needs the IP addresses, so it is
/// checked separately by ``checksumIsValid(source:destination:)``.
public struct UDPDatagram: ~Escapable {
  /// Exactly `length` bytes: header and payload.
  public let bytes: Span<UInt8>

  /// Offsets of the header fields.
  enum Field {
    static let sourcePort = 0
    static let destinationPort = 2
    static let length = 4
    static let checksum = 6
  }

  @_lifetime(copy bytes)
  public init(checking bytes: Span<UInt8>) throws(WireError) {
    guard bytes.count >= UDPHeader.length else { throw .truncated }
    let length = Int(bytes.uint16(at: Field.length))
    guard length >= UDPHeader.length else { throw .badLength }
    guard length <= bytes.count else { throw .truncated }
    self.bytes = bytes.extracting(0..<length)
  }

  public var sourcePort: UInt16 { bytes.uint16(at: Field.sourcePort) }
  public var destinationPort: UInt16 { bytes.uint16(at: Field.destinationPort) }
  public var length: Int { bytes.count }
  public var checksum: UInt16 { bytes.uint16(at: Field.checksum) }

  public var payload: Span<UInt8> {
    @_lifetime(copy self)
    get { bytes.extracting(droppingFirst: UDPHeader.length) }
  }

  /// Whether the checksum verifies over the pseudo-header (of the addresses' family) and the
  /// datagram. A zero checksum means the sender computed none, which IPv4 allows (RFC 768)
  /// and IPv6 does not (RFC 8200 §8.1: such a datagram is discarded).
  public func checksumIsValid(source: IPAddress, destination: IPAddress) -> Bool {
    if checksum == 0 { return source.isIPv4 && destination.isIPv4 }
    var sum = UDPHeader.pseudoHeaderSum(source: source, destination: destination, length: length)
    sum.add(bytes)
    return sum.isValid
  }
}

/// The parsed meaning of a UDP header, and how to write one (RFC 768).
public struct UDPHeader: Equatable, Sendable {
  public var sourcePort: UInt16
  public var destinationPort: UInt16

  /// Bytes in the header.
  public static let length = 8
  /// The largest payload in one IPv4 datagram: 65535 − 20 − 8 (also the limit over IPv6,
  /// which would allow 20 bytes more).
  public static let maximumPayload = 65507

  public init(sourcePort: UInt16, destinationPort: UInt16) {
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
  }

  /// The checksum of the pseudo-header of either family (RFC 768, RFC 8200 §8.1): addresses,
  /// protocol 17, UDP length.
  public static func pseudoHeaderSum(
    source: IPAddress, destination: IPAddress, length: Int
  ) -> InternetChecksum {
    .pseudoHeader(source: source, destination: destination, protocolNumber: .udp, length: length)
  }

  /// Prepends this header to `packet` (whose data is the payload) and computes the checksum;
  /// a computed zero is sent as all ones (RFC 768, RFC 8200 §8.1).
  public func prepend(to packet: PacketBuffer, source: IPAddress, destination: IPAddress) {
    packet.prepend(UDPHeader.length)
    let length = packet.count
    packet.withMutableBytes { bytes in
      typealias Field = UDPDatagram.Field
      bytes.setUInt16(sourcePort, at: Field.sourcePort)
      bytes.setUInt16(destinationPort, at: Field.destinationPort)
      bytes.setUInt16(UInt16(length), at: Field.length)
      bytes.setUInt16(0, at: Field.checksum)
      var sum = UDPHeader.pseudoHeaderSum(source: source, destination: destination, length: length)
      sum.add(bytes.span)
      let checksum = sum.value
      bytes.setUInt16(checksum == 0 ? 0xFFFF : checksum, at: Field.checksum)
    }
  }
}
