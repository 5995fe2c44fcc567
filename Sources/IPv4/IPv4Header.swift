import NetCore

/// The parsed meaning of an IPv4 header, and how to write one (RFC 791 §3.1).
///
/// The stack never sends IP options, so what it emits is always 20 bytes.
public struct IPv4Header: Equatable, Sendable {
  public var source: IPv4Address
  public var destination: IPv4Address
  public var protocolNumber: IPProtocolNumber
  /// Bytes after the header (total length minus header length).
  public var payloadLength: Int
  public var identification: UInt16
  /// DSCP and ECN bits (the old type-of-service byte).
  public var typeOfService: UInt8
  public var timeToLive: UInt8
  public var dontFragment: Bool
  public var moreFragments: Bool
  /// Offset of this fragment's payload in bytes (a multiple of 8).
  public var fragmentOffset: Int

  /// Bytes in a header without options.
  public static let length = 20
  /// The largest IPv4 datagram (the total-length field is 16 bits).
  public static let maximumDatagramLength = 65535
  /// The TTL the stack sends with (Linux's default, RFC 1700's recommendation).
  public static let defaultTimeToLive: UInt8 = 64

  public init(
    source: IPv4Address, destination: IPv4Address, protocolNumber: IPProtocolNumber,
    payloadLength: Int, identification: UInt16 = 0, typeOfService: UInt8 = 0,
    timeToLive: UInt8 = IPv4Header.defaultTimeToLive, dontFragment: Bool = false,
    moreFragments: Bool = false, fragmentOffset: Int = 0
  ) {
    self.source = source
    self.destination = destination
    self.protocolNumber = protocolNumber
    self.payloadLength = payloadLength
    self.identification = identification
    self.typeOfService = typeOfService
    self.timeToLive = timeToLive
    self.dontFragment = dontFragment
    self.moreFragments = moreFragments
    self.fragmentOffset = fragmentOffset
  }

  /// Writes the 20-byte header, checksum included, at the front of `bytes`.
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    precondition(fragmentOffset % 8 == 0 && fragmentOffset >> 3 <= 0x1FFF)
    precondition(IPv4Header.length + payloadLength <= IPv4Header.maximumDatagramLength)
    precondition(timeToLive > 0, "RFC 1122 §3.2.1.7: never send TTL 0")
    typealias Field = IPv4Packet.Field
    bytes[Field.versionAndHeaderLength] = 0x45
    bytes[Field.typeOfService] = typeOfService
    bytes.setUInt16(UInt16(IPv4Header.length + payloadLength), at: Field.totalLength)
    bytes.setUInt16(identification, at: Field.identification)
    var flags: UInt16 = UInt16(fragmentOffset >> 3)
    if dontFragment { flags |= 0x4000 }
    if moreFragments { flags |= 0x2000 }
    bytes.setUInt16(flags, at: Field.flagsAndFragmentOffset)
    bytes[Field.timeToLive] = timeToLive
    bytes[Field.protocolNumber] = protocolNumber.rawValue
    bytes.setUInt16(0, at: Field.checksum)
    source.write(to: &bytes, at: Field.source)
    destination.write(to: &bytes, at: Field.destination)
    let checksum = InternetChecksum.compute(bytes.span.extracting(0..<IPv4Header.length))
    bytes.setUInt16(checksum, at: Field.checksum)
  }

  /// Prepends this header to `packet`, whose data must be the `payloadLength` payload bytes.
  public func prepend(to packet: PacketBuffer) {
    precondition(packet.count == payloadLength, "IPv4Header: payload length mismatch")
    packet.prepend(IPv4Header.length)
    packet.withMutableBytes { emit(into: &$0) }
  }
}
