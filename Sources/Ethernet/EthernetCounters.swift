import NetCore

/// What the Ethernet layer received, sent and dropped, by reason.
public struct EthernetCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "ethernet"

  public var framesReceived: UInt64 = 0
  public var framesSent: UInt64 = 0
  /// Shorter than the 14-byte header.
  public var droppedTruncated: UInt64 = 0
  /// Addressed to another unicast MAC.
  public var droppedNotForUs: UInt64 = 0
  /// Addressed to a multicast MAC of no group we have joined (IPv4 or IPv6).
  public var droppedNotJoined: UInt64 = 0
  /// Joins of an IPv6 multicast group refused: the filter was full.
  public var multicastJoinsRefused: UInt64 = 0
  /// Sent from our own MAC (a loop) or from a multicast source address.
  public var droppedBadSource: UInt64 = 0
  /// An EtherType the stack does not handle (VLAN tags, ...).
  public var droppedUnknownType: UInt64 = 0
  /// Frames to send dropped: the transmit queue was full, or the memory budget had no room.
  public var droppedTransmitQueue: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("frames_received", framesReceived)
    body("frames_sent", framesSent)
    body("dropped_truncated", droppedTruncated)
    body("dropped_not_for_us", droppedNotForUs)
    body("dropped_not_joined", droppedNotJoined)
    body("multicast_joins_refused", multicastJoinsRefused)
    body("dropped_bad_source", droppedBadSource)
    body("dropped_unknown_type", droppedUnknownType)
    body("dropped_transmit_queue", droppedTransmitQueue)
  }
}
