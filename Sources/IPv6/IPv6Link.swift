import NetCore

/// The layer below IPv6: a link that carries IPv6 packets to link-layer addresses (RFC 2464 for
/// Ethernet). Neighbour discovery is IPv6's own (it is ICMPv6), so the link only frames.
///
/// Ethernet is the usual one (the lead's adapter over the Ethernet link); a test's in-memory
/// link is another. `IPv6Layer` is generic over it, as mirage-tcpip's IPv6 is a functor over
/// its Ethernet module.
public protocol IPv6Link {
  /// The largest IPv6 packet the link carries in one frame; at least 1280 (RFC 8200 §5).
  var mtu: Int { get }

  /// Bytes of link header the link prepends (the headroom an IPv6 packet needs in front).
  var headerLength: Int { get }

  /// Whether the link can take TCP segments larger than the MTU and have the device cut them
  /// (TSO/GSO), and compute transport checksums.
  var supportsSegmentationOffload: Bool { get }

  /// The interface's link-layer address: what neighbour discovery advertises and what stable
  /// interface identifiers are made from.
  var hardwareAddress: MACAddress { get }

  /// An empty buffer for a packet to send of up to `capacity` bytes (headroom included), its
  /// data starting `headroom` bytes in.
  mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer

  /// Sends `packet` (a complete IPv6 packet) in a frame to `destination`: a neighbour's
  /// address, or a multicast group's (RFC 2464 §7, `MACAddress(multicast:)`).
  mutating func send(_ packet: PacketBuffer, to destination: MACAddress, now: Instant)

  /// Accepts frames for the IPv6 multicast `group` from now on; false when the link's
  /// multicast filter is full.
  mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool

  /// Stops accepting frames for the IPv6 multicast `group`.
  mutating func leaveMulticastGroup(_ group: IPv6Address)
}

extension IPv6Link {
  /// A link without a pool allocates each buffer.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    PacketBuffer(capacity: capacity, headroom: headroom)
  }
}
