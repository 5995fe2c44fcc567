import NetCore

/// One connection as seen from outside the TCP layer at one moment: a value copied out of the
/// connection by `TCPLayer.info(_:)` and `TCPLayer.forEachConnection(_:)`, so that runtimes,
/// status reports and tests read a connection without holding it (RFC 9293 §3.10.6 STATUS:
/// the state, the windows and the data queued each way; the rest is what Linux's `tcp_info`
/// reports). Changing it changes nothing in the connection.
public struct TCPConnectionInfo: Equatable, Sendable {
  // MARK: Identity

  /// Local and remote addresses and ports.
  public var tuple: TCPFourTuple
  /// The RFC 9293 state.
  public var state: TCPState
  /// Whether a listener opened it (passive open).
  public var isPassive: Bool
  /// Why the connection failed, if it did.
  public var error: TCPError?

  // MARK: The application's side

  /// Bytes the application can read now.
  public var readableBytes: Int
  /// Bytes the application can write now.
  public var writableBytes: Int
  /// Whether every byte the peer will send has been read (its FIN arrived, nothing is left).
  public var isAtEndOfStream: Bool
  /// Whether the peer's FIN has arrived (with all the data before it).
  public var finReceived: Bool
  /// Bytes written and not yet acknowledged (sent or not).
  public var unacknowledgedBytes: Int
  /// How much written data the connection holds at most now (it follows the windows).
  public var sendBufferTarget: Int
  /// The receive buffer's current ceiling (it grows with use up to the configured maximum).
  public var receiveBufferLimit: Int
  /// Bytes of memory the connection's buffers hold (charged to the memory budget).
  public var bufferedMemory: Int

  // MARK: Windows and options (RFC 9293 §3.3.1, RFC 7323, RFC 2018)

  /// SND.WND in bytes: the window the peer offers.
  public var sendWindow: Int
  /// RCV.WND in bytes as last advertised.
  public var receiveWindow: Int
  /// The largest payload the peer accepts (its MSS, within ours).
  public var sendMaximumSegmentSize: Int
  /// Payload bytes in a full-sized segment after our per-segment options.
  public var effectiveSendSegmentSize: Int
  /// Whether window scaling is in use, and the shifts each way (Snd.Wind.Shift,
  /// Rcv.Wind.Shift).
  public var windowScalingEnabled: Bool
  public var sendWindowShift: UInt8
  public var receiveWindowShift: UInt8
  /// Whether timestamps are in use.
  public var timestampsEnabled: Bool
  /// Whether SACK is in use.
  public var sackEnabled: Bool

  // MARK: Congestion control and loss recovery (RFC 5681, RFC 6298, RFC 6675)

  /// cwnd, in bytes.
  public var congestionWindow: Int
  /// ssthresh, in bytes.
  public var slowStartThreshold: Int
  /// Whether a loss-recovery episode is under way.
  public var inRecovery: Bool
  /// The smoothed round-trip time, once measured.
  public var smoothedRoundTripTime: Interval?
  /// The retransmission timeout without backoff.
  public var retransmissionTimeout: Interval

  // MARK: Statistics

  /// Payload bytes received in order.
  public var bytesReceived: UInt64
  /// Payload bytes sent for the first time.
  public var bytesSent: UInt64
  /// Segments sent again.
  public var segmentsRetransmitted: UInt64
}
