import NetCore

/// The parsed meaning of an Ethernet II header, and how to write one (IEEE 802.3 §3.2,
/// RFC 894 for IPv4 over Ethernet).
public struct EthernetHeader: Equatable, Sendable {
  public var destination: MACAddress
  public var source: MACAddress
  public var etherType: EtherType

  /// Bytes in the header: two addresses and the type.
  public static let length = 14
  /// The smallest frame on the wire, without the frame check sequence (RFC 894: padding
  /// brings shorter frames up to this; the link that sends frames pads them).
  public static let minimumFrameLength = 60

  public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
    self.destination = destination
    self.source = source
    self.etherType = etherType
  }

  /// Writes the header into the first 14 bytes of `bytes`.
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    typealias Field = EthernetFrame.Field
    destination.write(to: &bytes, at: Field.destination)
    source.write(to: &bytes, at: Field.source)
    bytes.setUInt16(etherType.rawValue, at: Field.etherType)
  }

  /// Prepends this header to `packet`, whose data is the payload. Padding a short frame to
  /// ``minimumFrameLength`` is the sending link's work (`EthernetLink`), not the header's.
  public func prepend(to packet: PacketBuffer) {
    packet.prepend(EthernetHeader.length)
    packet.withMutableBytes { emit(into: &$0) }
  }
}
