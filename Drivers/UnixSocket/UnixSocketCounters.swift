/// What happened on a Unix-socket frame link (``UnixSocketDevice``), shown as the
/// `unix_socket` counters of `netstackd status` and of the daemon's exit report.
public struct UnixSocketCounters: Sendable {
  /// Peers accepted (listen mode).
  public var peersAccepted: UInt64 = 0
  /// Peers that closed the connection, reset it, or failed a write (shut down their reading
  /// side): dropped.
  public var peersClosed: UInt64 = 0
  /// Peers that sent a frame length of 0 or above ``UnixSocketDevice/maximumFrameLength``:
  /// dropped.
  public var peersDroppedBadLength: UInt64 = 0
  /// Frames received whole and handed to the stack.
  public var framesReceived: UInt64 = 0
  /// Frames written to the socket (the last one possibly still in part).
  public var framesSent: UInt64 = 0
  /// Frames dropped for want of a peer: none connected, or it left or failed with the frames
  /// queued (a frame cut in the middle included).
  public var framesDroppedNoPeer: UInt64 = 0
  /// The oldest frames dropped while the peer did not read and more than
  /// ``UnixSocketDevice/maximumQueuedBytes`` waited for it.
  public var framesDroppedSlowPeer: UInt64 = 0

  public init() {}

  /// Every counter with its name, in a fixed order.
  public var all: [(name: String, value: UInt64)] {
    [
      ("peers_accepted", peersAccepted), ("peers_closed", peersClosed),
      ("peers_dropped_bad_length", peersDroppedBadLength), ("frames_received", framesReceived),
      ("frames_sent", framesSent), ("frames_dropped_no_peer", framesDroppedNoPeer),
      ("frames_dropped_slow_peer", framesDroppedSlowPeer),
    ]
  }
}
