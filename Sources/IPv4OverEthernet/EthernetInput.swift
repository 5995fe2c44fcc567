/// What ``EthernetLink/receive(_:now:)`` found in a frame (RFC 894 and RFC 2464: the IPv4 or
/// IPv6 packet is the frame's payload).
///
/// A view: the packet's bytes are the received frame's, valid as long as the frame is.
public enum EthernetInput: ~Escapable {
  /// An IPv4 packet for the IPv4 layer: the frame's payload, after the 14-byte header (any
  /// padding to the minimum frame included: IPv4 cuts the packet to its total length).
  /// `linkBroadcast` when the frame went to a broadcast or multicast MAC.
  case ipv4(packet: Span<UInt8>, linkBroadcast: Bool)
  /// An IPv6 packet for the IPv6 layer (RFC 2464 §3: EtherType 0x86DD), the frame's payload
  /// with any padding (IPv6 cuts the packet to its payload length). `linkMulticast` when the
  /// frame went to a multicast MAC of a joined group, or to broadcast.
  case ipv6(packet: Span<UInt8>, linkMulticast: Bool)
  /// Handled by the link (ARP) or dropped and counted.
  case consumed
}
