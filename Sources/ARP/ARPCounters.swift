import NetCore

/// What ARP received, sent, resolved and dropped.
public struct ARPCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "arp"

  public var requestsReceived: UInt64 = 0
  public var repliesReceived: UInt64 = 0
  public var requestsSent: UInt64 = 0
  public var repliesSent: UInt64 = 0
  /// Shorter than 28 bytes.
  public var droppedTruncated: UInt64 = 0
  /// Not Ethernet/IPv4, or an unknown operation.
  public var droppedUnsupported: UInt64 = 0
  /// A sender address that cannot be a host (broadcast or multicast MAC or IP).
  public var droppedBadAddress: UInt64 = 0
  /// Another host claims our address (RFC 5227 §2.4).
  public var addressConflicts: UInt64 = 0
  /// Addresses that did not answer any request.
  public var resolutionFailures: UInt64 = 0
  /// Packets dropped because their next hop never resolved.
  public var pendingTimedOut: UInt64 = 0
  /// Packets dropped because the queue of packets waiting for resolution was full.
  public var pendingOverflow: UInt64 = 0
  /// Cache entries evicted to make room for another.
  public var cacheEvictions: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("requests_received", requestsReceived)
    body("replies_received", repliesReceived)
    body("requests_sent", requestsSent)
    body("replies_sent", repliesSent)
    body("dropped_truncated", droppedTruncated)
    body("dropped_unsupported", droppedUnsupported)
    body("dropped_bad_address", droppedBadAddress)
    body("address_conflicts", addressConflicts)
    body("resolution_failures", resolutionFailures)
    body("pending_timed_out", pendingTimedOut)
    body("pending_overflow", pendingOverflow)
    body("cache_evictions", cacheEvictions)
  }
}
