import NetCore

/// What UDP received, delivered, sent and dropped, by reason.
public struct UDPCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "udp"

  public var datagramsReceived: UInt64 = 0
  public var datagramsDelivered: UInt64 = 0
  public var datagramsSent: UInt64 = 0
  public var droppedTruncated: UInt64 = 0
  public var droppedBadLength: UInt64 = 0
  public var droppedBadChecksum: UInt64 = 0
  /// No endpoint bound to the destination port (answered with port unreachable).
  public var droppedNoPort: UInt64 = 0
  /// Addressed to another host (delivered while the interface had no address) and no
  /// endpoint asked for such datagrams; never answered.
  public var droppedNotForUs: UInt64 = 0
  /// Addressed to one of ours at the port of an endpoint that takes only its flow's
  /// datagrams (``UDPEndpoint/takesFlowOnly``: a published port's flow that shows the guest
  /// its client's address, whose port nobody should send to); answered port unreachable, as
  /// a closed port is.
  public var droppedOutsideFlow: UInt64 = 0
  /// The endpoint's receive queue was full.
  public var droppedQueueFull: UInt64 = 0
  /// Sends that failed (no route, too large).
  public var sendErrors: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("datagrams_received", datagramsReceived)
    body("datagrams_delivered", datagramsDelivered)
    body("datagrams_sent", datagramsSent)
    body("dropped_truncated", droppedTruncated)
    body("dropped_bad_length", droppedBadLength)
    body("dropped_bad_checksum", droppedBadChecksum)
    body("dropped_no_port", droppedNoPort)
    body("dropped_not_for_us", droppedNotForUs)
    body("dropped_outside_flow", droppedOutsideFlow)
    body("dropped_queue_full", droppedQueueFull)
    body("send_errors", sendErrors)
  }
}
