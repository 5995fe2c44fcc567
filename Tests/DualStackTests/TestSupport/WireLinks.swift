import IPv6
import NetCore

/// The two bytes every frame on the test wire starts with: the IP version of what follows (4
/// or 6) and whether it went to a link-layer group (multicast or broadcast). The wire needs no
/// more of a link header: it joins two hosts.
enum WireHeader {
  static let length = 2
  static let multicastFlag: UInt8 = 1

  static func prepend(version: UInt8, multicast: Bool, to packet: PacketBuffer) {
    packet.prepend(length)
    packet.withMutableBytes { bytes in
      bytes[0] = version
      bytes[1] = multicast ? multicastFlag : 0
    }
  }
}

/// The IPv4 side of a host's end of the wire: every packet goes to the one other host.
struct WireIPv4Link: IPv4Link {
  var mtu = 1500
  var headerLength: Int { WireHeader.length }
  var supportsSegmentationOffload: Bool { false }
  var nextDeadline: Instant? { nil }
  /// Frames sent, for the wire to carry.
  var outbox: [PacketBuffer] = []

  mutating func send(_ packet: PacketBuffer, to nextHop: IPv4Address, now: Instant) {
    WireHeader.prepend(
      version: 4, multicast: nextHop.isBroadcast || nextHop.isMulticast, to: packet)
    outbox.append(packet)
  }

  mutating func setAddress(_ address: IPv4CIDR?, now: Instant) {}
  mutating func poll(now: Instant) {}
}

/// The IPv6 side of a host's end of the wire: unicast frames to the other host's MAC, group
/// frames to the groups it joined (neighbour discovery runs over it as over Ethernet).
struct WireIPv6Link: IPv6Link {
  var mtu = 1500
  var headerLength: Int { WireHeader.length }
  var supportsSegmentationOffload: Bool { false }
  let hardwareAddress: MACAddress
  var groups: Set<IPv6Address> = []
  /// Frames sent, for the wire to carry.
  var outbox: [PacketBuffer] = []
  /// Frames sent to a MAC that is neither the peer's nor a group's (none should be).
  var misaddressed = 0
  /// The other host's MAC.
  let peer: MACAddress

  init(hardwareAddress: MACAddress, peer: MACAddress) {
    self.hardwareAddress = hardwareAddress
    self.peer = peer
  }

  mutating func send(_ packet: PacketBuffer, to destination: MACAddress, now: Instant) {
    guard destination == peer || destination.isMulticast else {
      misaddressed += 1
      return
    }
    WireHeader.prepend(version: 6, multicast: destination.isMulticast, to: packet)
    outbox.append(packet)
  }

  mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool {
    groups.insert(group)
    return true
  }

  mutating func leaveMulticastGroup(_ group: IPv6Address) { groups.remove(group) }
}
