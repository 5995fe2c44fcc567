import NetCore

/// The parsed meaning of the fixed IPv6 header, and how to write one (RFC 8200 §3).
///
/// Extension headers are not part of it: the stack sends them only where it builds them
/// itself (the fragment header, MLD's hop-by-hop options).
public struct IPv6Header: Equatable, Sendable {
  public var source: IPv6Address
  public var destination: IPv6Address
  /// The header after this one: an extension header or the upper layer.
  public var nextHeader: IPv6NextHeader
  /// Bytes after the fixed header, extension headers included.
  public var payloadLength: Int
  public var hopLimit: UInt8
  /// DSCP and ECN bits (RFC 2474, RFC 3168).
  public var trafficClass: UInt8
  /// The 20-bit flow label (RFC 6437).
  public var flowLabel: UInt32

  /// Bytes in the fixed header.
  public static let length = 40
  /// The largest payload the 16-bit payload length can state (jumbograms are not supported).
  public static let maximumPayloadLength = 65535
  /// The minimum link MTU every IPv6 link provides (RFC 8200 §5).
  public static let minimumMTU = 1280
  /// The hop limit the stack sends with (Linux's default, as IPv4's TTL).
  public static let defaultHopLimit: UInt8 = 64

  public init(
    source: IPv6Address, destination: IPv6Address, nextHeader: IPv6NextHeader, payloadLength: Int,
    hopLimit: UInt8 = IPv6Header.defaultHopLimit, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
  ) {
    self.source = source
    self.destination = destination
    self.nextHeader = nextHeader
    self.payloadLength = payloadLength
    self.hopLimit = hopLimit
    self.trafficClass = trafficClass
    self.flowLabel = flowLabel
  }

  /// Writes the 40-byte header at the front of `bytes`.
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    precondition(payloadLength >= 0 && payloadLength <= IPv6Header.maximumPayloadLength)
    precondition(flowLabel >> 20 == 0, "the flow label is 20 bits")
    typealias Field = IPv6Packet.Field
    let first = UInt32(6) << 28 | UInt32(trafficClass) << 20 | flowLabel
    bytes.setUInt32(first, at: Field.versionClassAndFlow)
    bytes.setUInt16(UInt16(payloadLength), at: Field.payloadLength)
    bytes[Field.nextHeader] = nextHeader.rawValue
    bytes[Field.hopLimit] = hopLimit
    source.write(to: &bytes, at: Field.source)
    destination.write(to: &bytes, at: Field.destination)
  }

  /// Prepends this header to `packet`, whose data must be the `payloadLength` payload bytes.
  public func prepend(to packet: PacketBuffer) {
    precondition(packet.count == payloadLength, "IPv6Header: payload length mismatch")
    packet.prepend(IPv6Header.length)
    packet.withMutableBytes { emit(into: &$0) }
  }
}
