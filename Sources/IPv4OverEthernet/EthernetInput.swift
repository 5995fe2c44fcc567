/// What ``EthernetLink/receive(_:now:)`` found in a frame (RFC 894: the IPv4 packet is the
/// frame's payload).
///
/// A view: the packet's bytes are the received frame's, valid as long as the frame is.
public enum EthernetInput: ~Escapable {
  /// An IPv4 packet for the IPv4 layer: the frame's payload, after the 14-byte header (any
  /// padding to the minimum frame included: IPv4 cuts the packet to its total length).
  /// `linkBroadcast` when the frame went to a broadcast or multicast MAC.
  case ipv4(packet: Span<UInt8>, linkBroadcast: Bool)
  /// Handled by the link (ARP) or dropped and counted.
  case consumed
}
