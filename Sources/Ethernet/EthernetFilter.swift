import NetCore

/// Decides which received frames are for this host (IEEE 802.3 address recognition): frames
/// to our MAC, to broadcast, to IPv4 multicast groups we have joined (the all-hosts group
/// 224.0.0.1 always) and to IPv6 multicast groups we have joined (RFC 2464 §7: `33:33` and the
/// group's last 32 bits). Everything else is counted and dropped.
public struct EthernetFilter: Sendable {
  /// Our hardware address.
  public var address: MACAddress
  /// Multicast MACs we accept besides broadcast (bounded: a handful of groups).
  public private(set) var multicastGroups: [MACAddress]
  /// The most multicast groups the filter holds.
  public static let multicastLimit = 16
  /// IPv6 groups we accept frames for (bounded by ``ipv6MulticastLimit``). Groups, not MACs:
  /// two groups can share a MAC, and leaving one must not deafen the other.
  public private(set) var ipv6MulticastGroups: [IPv6Address] = []
  /// The most IPv6 groups the filter holds: as many as the IPv6 layer's multicast listener
  /// joins (its solicited-node groups and all-nodes).
  public static let ipv6MulticastLimit = 32

  public init(address: MACAddress) {
    self.address = address
    multicastGroups = [MACAddress(multicast: IPv4Address(224, 0, 0, 1))]
  }

  /// Accepts frames for IPv4 multicast `group`; returns false when the table is full.
  @discardableResult
  public mutating func join(_ group: IPv4Address) -> Bool {
    let mac = MACAddress(multicast: group)
    if multicastGroups.contains(mac) { return true }
    guard multicastGroups.count < EthernetFilter.multicastLimit else { return false }
    multicastGroups.append(mac)
    return true
  }

  /// Accepts frames for IPv6 multicast `group`; returns false when the table is full.
  @discardableResult
  public mutating func join(_ group: IPv6Address) -> Bool {
    if ipv6MulticastGroups.contains(group) { return true }
    guard ipv6MulticastGroups.count < EthernetFilter.ipv6MulticastLimit else { return false }
    ipv6MulticastGroups.append(group)
    return true
  }

  /// Stops accepting frames for IPv6 multicast `group` (those of another joined group with
  /// the same MAC still pass).
  public mutating func leave(_ group: IPv6Address) {
    ipv6MulticastGroups.removeAll { $0 == group }
  }

  /// Why a frame is refused, or nil when it is for us.
  public func check(_ frame: borrowing EthernetFrame) -> EthernetFilterVerdict {
    let source = frame.source
    if source == address || source.isMulticast { return .badSource }
    let destination = frame.destination
    if destination == address || destination.isBroadcast { return .accept }
    guard destination.isMulticast else { return .notForUs }
    if multicastGroups.contains(destination) { return .accept }
    if ipv6MulticastGroups.contains(where: { MACAddress(multicast: $0) == destination }) {
      return .accept
    }
    return .notJoined
  }
}

/// The outcome of ``EthernetFilter/check(_:)``.
public enum EthernetFilterVerdict: Equatable, Sendable {
  case accept
  /// To another host's unicast MAC.
  case notForUs
  /// To a multicast MAC of no group we have joined.
  case notJoined
  case badSource
}
