import IPv6
import NetCore

/// The `IPv6Link` the direct stack's `IPv6Layer` runs on: IPv6's side of the one Ethernet
/// link (RFC 2464).
///
/// The link itself (`EthernetLink`: the device's queue, the frame filter, the buffers) has one
/// owner, the IPv4 layer (`DirectStack.ipv4.link`). This adapter is what the IPv6 layer owns
/// instead: it knows the link's MAC, MTU and offloads, and keeps what IPv6 asks of the link
/// (frames to send, multicast groups to join or leave) in a bounded outbox, in order.
/// `DirectStack` moves the outbox into the Ethernet link after each call into the IPv6 layer,
/// within the same poll and before the poll's transmit, so a frame IPv6 sends reaches the
/// device in the same turn as one IPv4 sends.
///
/// A join is queued and reported as accepted: the Ethernet filter holds as many IPv6 groups
/// (`EthernetFilter.ipv6MulticastLimit`, 32) as the IPv6 layer's multicast listener ever
/// joins, and counts a refusal (`ethernet.multicast_joins_refused`) should it happen.
public struct EthernetIPv6Link: IPv6Link, CounterGroup {
  public static let groupName: StaticString = "ipv6_link"

  /// What the IPv6 layer asked of the link, in order.
  public enum Request {
    /// Frame `packet` (a whole IPv6 packet) to `destination` and queue it for the device.
    case send(PacketBuffer, to: MACAddress)
    /// Accept frames for an IPv6 multicast group from now on.
    case join(IPv6Address)
    /// Stop accepting frames for an IPv6 multicast group.
    case leave(IPv6Address)
  }

  public let hardwareAddress: MACAddress
  /// The link MTU for IPv6: the device's, never below IPv6's minimum of 1280 (a smaller
  /// device has no IPv6; `DirectStack` does not start the layer there).
  public let mtu: Int
  /// The Ethernet header and, in front of it, the room the device below writes into (the
  /// TAP's 12-byte virtio-net header): what every IPv6 packet leaves free before its header,
  /// as IPv4's buffers do with `PacketBuffer.defaultHeadroom`.
  public var headerLength: Int {
    EthernetIPv6Link.ethernetHeaderLength + EthernetIPv6Link.deviceHeadroom
  }
  /// Bytes of an Ethernet II header (RFC 894, RFC 2464).
  static let ethernetHeaderLength = 14
  /// Room before the frame for the device: the TAP's virtio-net header (12 bytes) with margin.
  public static let deviceHeadroom = 32
  public let supportsSegmentationOffload: Bool
  /// Requests waiting to be moved into the Ethernet link (at most ``outboxLimit``).
  public private(set) var outbox: [Request] = []
  /// The most requests the outbox holds between two moves: far more than one call into the
  /// IPv6 layer makes (a 64 KiB echo reply is 45 fragments).
  public static let outboxLimit = 1024
  /// Frames dropped because the outbox was full.
  public private(set) var droppedOutboxFull: UInt64 = 0
  /// IPv6 frames received while IPv6 does not run (turned off, or a link MTU below 1280).
  public internal(set) var droppedNotRunning: UInt64 = 0

  /// The adapter for an Ethernet link with `hardwareAddress` and an MTU of `mtu`.
  public init(hardwareAddress: MACAddress, mtu: Int, supportsSegmentationOffload: Bool) {
    self.hardwareAddress = hardwareAddress
    self.mtu = max(mtu, 1280)
    self.supportsSegmentationOffload = supportsSegmentationOffload
  }

  public mutating func send(_ packet: PacketBuffer, to destination: MACAddress, now: Instant) {
    guard outbox.count < EthernetIPv6Link.outboxLimit else {
      droppedOutboxFull += 1
      return
    }
    outbox.append(.send(packet, to: destination))
  }

  public mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool {
    guard outbox.count < EthernetIPv6Link.outboxLimit else { return false }
    outbox.append(.join(group))
    return true
  }

  public mutating func leaveMulticastGroup(_ group: IPv6Address) {
    // A leave lost to a full outbox leaves the group in the Ethernet filter: its frames then
    // reach the IPv6 layer, which drops what no listener wants.
    guard outbox.count < EthernetIPv6Link.outboxLimit else { return }
    outbox.append(.leave(group))
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("dropped_outbox_full", droppedOutboxFull)
    body("dropped_not_running", droppedNotRunning)
  }

  /// Takes the requests made since the last call, oldest first.
  public mutating func takeRequests() -> [Request] {
    var taken: [Request] = []
    swap(&taken, &outbox)
    return taken
  }
}
