import NetCore

/// A connection's receive side: the receive sequence space of RFC 9293 §3.3.1 (IRS, RCV.NXT,
/// the right edge of RCV.WND as advertised, §3.8.6), the received data (in order and out of
/// order), what the next ACK must report (whether one is due, RFC 9293 §3.8.6.3 and RFC 1122
/// §4.2.3.2; SACK blocks in recency order, RFC 2018 §4; a D-SACK, RFC 2883), the peer's FIN,
/// and receive-buffer moderation (Linux's DRS, `tcp_rcv_space_adjust`), as gVisor's
/// `receiver` keeps them apart from the send side. Not copyable: it owns the receive buffer's
/// memory.
///
/// The connection drives it: `TCPConnection+ReceiveText.swift` takes text and FIN into it,
/// `TCPConnection+Application.swift` lets the application read from it, and the output sends
/// the ACK it asks for.
struct TCPReceiver: ~Copyable {
  /// IRS.
  var initialSequence = SequenceNumber(0)
  /// RCV.NXT: next sequence number expected.
  var next = SequenceNumber(0)
  /// Readable and out-of-order received data.
  var buffer: TCPReceiveBuffer
  /// RCV.NXT + RCV.WND as last advertised: the right edge never moves left (RFC 9293 §3.8.6).
  var advertisedWindowEdge = SequenceNumber(0)
  /// The peer's FIN has been received (and all data before it).
  var finReceived = false
  /// A FIN that arrived ahead of missing data: its sequence number.
  var pendingFinSequence: SequenceNumber?

  /// An acknowledgment must go out at the next output.
  var acknowledgmentNeeded = false
  /// Full-sized segments received since the last acknowledgment (RFC 1122 §4.2.3.2: ACK at
  /// least every second one).
  var segmentsSinceAcknowledgment = 0
  /// Last.ACK.sent (RFC 7323 §4.3).
  var lastAcknowledgmentSent = SequenceNumber(0)
  /// Where the latest out-of-order segments began, most recent first: the first SACK block
  /// holds the latest, the others repeat the most recently reported (RFC 2018 §4).
  var recentOutOfOrderSequences: [SequenceNumber] = []
  /// How many recent out-of-order arrivals are remembered for ordering SACK blocks.
  static let sackRecencyDepth = 8
  /// Data that arrived a second time, to be reported as the first SACK block of the next
  /// ACK: a D-SACK (RFC 2883 §4), which tells the sender its retransmission was spurious.
  var duplicateReport: SACKBlock?

  /// Receive-buffer moderation (Linux `tcp_rcv_space_adjust`): bytes the application took in
  /// the current measurement period, its start, and what the previous period took.
  var spaceCopied = 0
  var spaceStart: Instant
  var spaceLast = 0
  /// The receiver's estimate of the round-trip time (RFC 7323 §4.3 timestamps echoed, or the
  /// time one window's data took to arrive), which paces receive-buffer moderation.
  var roundTripTime: Interval?
  /// Without timestamps: a window's measurement in progress, ended when RCV.NXT passes the
  /// sequence number (Linux `tcp_rcv_rtt_measure`).
  var roundTripProbe: (sequence: SequenceNumber, start: Instant)?

  /// Nothing received yet; moderation's first period starts `now`, and must beat half the
  /// buffer's initial window, so that an application that takes a little does not grow the
  /// buffer while one that takes a whole window in a round trip does. (Linux's
  /// rcvq_space.space starts at ten segments, below the larger window it first offers; a
  /// window-limited peer can never deliver more than the whole window in a round trip, so a
  /// bar at the whole window would never be passed on a steady path.)
  init(buffer: consuming TCPReceiveBuffer, now: Instant) {
    spaceLast = buffer.limit / 2
    spaceStart = now
    self.buffer = buffer
  }

  /// The four cases of RFC 9293 §3.10.7.4 "first, check sequence number".
  func isAcceptable(sequence: SequenceNumber, length: Int) -> Bool {
    let window = max(advertisedWindowEdge - next, 0)
    if length == 0 {
      if window == 0 { return sequence == next }
      return sequence.isInWindow(start: next, length: window)
    }
    if window == 0 { return false }
    return sequence.isInWindow(start: next, length: window)
      || (sequence + (length - 1)).isInWindow(start: next, length: window)
  }

  /// Remembers where an out-of-order segment began, for the SACK blocks' order.
  mutating func noteOutOfOrder(at sequence: SequenceNumber) {
    recentOutOfOrderSequences.insert(sequence, at: 0)
    if recentOutOfOrderSequences.count > TCPReceiver.sackRecencyDepth {
      recentOutOfOrderSequences.removeLast()
    }
  }
}
