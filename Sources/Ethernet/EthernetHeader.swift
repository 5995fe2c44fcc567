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
  /// brings shorter frames up to this).
  public static let minimumFrameLength = 60

  public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
    self.destination = destination
    self.source = source
    self.etherType = etherType
  }

  /// Writes the header into the first 14 bytes of `bytes`.
  public func emit(into bytes: inout MutableSpan<UInt8>) {
    destination.write(to: &bytes, at: 0)
    source.write(to: &bytes, at: 6)
    bytes.setUInt16(etherType.rawValue, at: 12)
  }

  /// Prepends this header to `packet` and pads the frame to the minimum length.
  public func prepend(to packet: PacketBuffer) {
    packet.prepend(EthernetHeader.length)
    if packet.count < EthernetHeader.minimumFrameLength {
      let padding = min(EthernetHeader.minimumFrameLength - packet.count, packet.tailroom)
      let start = packet.count
      packet.append(padding)
      packet.withMutableBytes { $0.zero(from: start, count: padding) }
    }
    packet.withMutableBytes { emit(into: &$0) }
  }
}
