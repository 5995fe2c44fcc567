import NetCore

/// What netfront moved through its rings, and what it dropped and why.
public struct NetfrontCounters: CounterGroup, Sendable, Equatable {
  public static let groupName: StaticString = "netfront"

  /// Frames handed to the stack, and their bytes.
  public var framesReceived: UInt64 = 0
  public var bytesReceived: UInt64 = 0
  /// Received frames that spanned more than one slot (`NETRXF_more_data`).
  public var multiSlotFramesReceived: UInt64 = 0
  /// Receive responses with an error status (`NETIF_RSP_ERROR`/`DROPPED`); their frame is
  /// dropped.
  public var receiveErrors: UInt64 = 0
  /// Receive responses that broke the protocol (unknown id, a fragment outside its page, a
  /// frame larger than 64 KiB); their frame is dropped.
  public var receiveMalformed: UInt64 = 0
  /// Extra-info slots skipped on receive (GSO, hash: nothing this driver asked for).
  public var receiveExtraInfo: UInt64 = 0
  /// Frames put on the transmit ring, and their bytes.
  public var framesSent: UInt64 = 0
  public var bytesSent: UInt64 = 0
  /// Frames sent in more than one slot (`NETTXF_more_data`).
  public var multiSlotFramesSent: UInt64 = 0
  /// TCP segments larger than the MTU sent with a GSO extra-info entry for the back end to
  /// cut up (`feature-gso-tcpv4`).
  public var segmentationFramesSent: UInt64 = 0
  /// Transmit responses with `NETIF_RSP_ERROR` or `NETIF_RSP_DROPPED`.
  public var transmitErrors: UInt64 = 0
  /// Transmit responses for an id that was not in flight.
  public var transmitMalformed: UInt64 = 0
  /// Frames dropped before the ring: too large for the back end, or needing a segmentation
  /// the back end does not offer.
  public var transmitTooLarge: UInt64 = 0
  /// Times frames had to wait because the ring or the buffers were all in use.
  public var transmitRingFull: UInt64 = 0
  /// Notifications sent to the back end, and pushes that did not need one.
  public var notificationsSent: UInt64 = 0
  public var notificationsSuppressed: UInt64 = 0
  /// Events taken from the event channel.
  public var eventsReceived: UInt64 = 0

  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("frames_received", framesReceived)
    body("bytes_received", bytesReceived)
    body("multi_slot_frames_received", multiSlotFramesReceived)
    body("receive_errors", receiveErrors)
    body("receive_malformed", receiveMalformed)
    body("receive_extra_info", receiveExtraInfo)
    body("frames_sent", framesSent)
    body("bytes_sent", bytesSent)
    body("multi_slot_frames_sent", multiSlotFramesSent)
    body("segmentation_frames_sent", segmentationFramesSent)
    body("transmit_errors", transmitErrors)
    body("transmit_malformed", transmitMalformed)
    body("transmit_too_large", transmitTooLarge)
    body("transmit_ring_full", transmitRingFull)
    body("notifications_sent", notificationsSent)
    body("notifications_suppressed", notificationsSuppressed)
    body("events_received", eventsReceived)
  }
}
