/// The layer below IPv4: something that carries IPv4 packets to a next hop on the local link.
///
/// Ethernet with ARP is the usual one (`EthernetLink`); a test or a point-to-point device can
/// be another. IPv4 is generic over it (`IPv4Layer<Link>`), as mirage-tcpip's IPv4 is a
/// functor over its Ethernet and ARP modules.
public protocol IPv4Link {
  /// The largest IPv4 packet the link carries in one frame.
  var mtu: Int { get }

  /// Bytes of link header the link prepends (the headroom an IPv4 packet needs in front).
  var headerLength: Int { get }

  /// Whether the link can take TCP segments larger than the MTU and have the device cut them
  /// (TSO/GSO through a virtio-net header), and compute transport checksums.
  var supportsSegmentationOffload: Bool { get }

  /// An empty buffer for a packet to send of up to `capacity` bytes (headroom included), its
  /// data starting `headroom` bytes in: from the link's pool of buffers the device has
  /// written, when it keeps one (``PacketBufferPool``).
  mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer

  /// Sends `packet` (a complete IPv4 packet) to `nextHop`, an address on the link: the
  /// destination itself, a gateway, or a broadcast or multicast address.
  mutating func send(_ packet: PacketBuffer, to nextHop: IPv4Address, now: Instant)

  /// Tells the link which address the host now has on it (nil while it has none, as during
  /// DHCP), so that it answers address resolution for it.
  mutating func setAddress(_ address: IPv4CIDR?, now: Instant)

  /// Runs the link's timers (address resolution retries, cache aging).
  mutating func poll(now: Instant)

  /// When the link next needs `poll`, if ever.
  var nextDeadline: Instant? { get }
}

extension IPv4Link {
  /// A link without a pool allocates each buffer.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    PacketBuffer(capacity: capacity, headroom: headroom)
  }
}
