import NetCore

/// Decides which received frames are for this host (IEEE 802.3 address recognition): frames
/// to our MAC, to broadcast, and to IPv4 multicast groups we have joined (the all-hosts group
/// 224.0.0.1 always). Everything else is counted and dropped.
public struct EthernetFilter: Sendable {
  /// Our hardware address.
  public var address: MACAddress
  /// Multicast MACs we accept besides broadcast (bounded: a handful of groups).
  public private(set) var multicastGroups: [MACAddress]
  /// The most multicast groups the filter holds.
  public static let multicastLimit = 16

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

  /// Why a frame is refused, or nil when it is for us.
  public func check(_ frame: borrowing EthernetFrame) -> EthernetFilterVerdict {
    let source = frame.source
    if source == address || source.isMulticast { return .badSource }
    let destination = frame.destination
    if destination == address || destination.isBroadcast { return .accept }
    if destination.isMulticast && multicastGroups.contains(destination) { return .accept }
    return .notForUs
  }
}

/// The outcome of ``EthernetFilter/check(_:)``.
public enum EthernetFilterVerdict: Equatable, Sendable {
  case accept
  case notForUs
  case badSource
}
