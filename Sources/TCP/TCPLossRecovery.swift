import NetCore

/// A connection's loss recovery state: the scoreboard of segments in flight (RFC 6675, with
/// RACK's send times, RFC 8985), duplicate ACKs and NewReno's window inflation (RFC 5681
/// §3.2, RFC 6582), the recovery episode and its recovery point, RACK's reordering timer
/// (RFC 8985 §6.2) and the tail loss probe (RFC 8985 §7), as gVisor's `sender` keeps its
/// `fr` (fast recovery) state apart.
///
/// The connection drives it (it owns SND.UNA, SND.MAX, the congestion controller and the
/// retransmission timer) and asks it what is owed; this struct keeps the episode's rules in
/// one place: one cut of the congestion window per episode, an episode only after the last
/// one is behind SND.UNA.
struct TCPLossRecovery {
  /// Every segment sent and not yet acknowledged: the scoreboard (RFC 6675) with RACK's
  /// per-segment send times (RFC 8985).
  var retransmissionQueue = TCPRetransmissionQueue()
  var duplicateAcknowledgments = 0
  /// In a loss-recovery episode (RFC 6582 / RFC 6675), until SND.UNA passes
  /// ``recoveryPoint``: the congestion window is cut once per episode.
  var inRecovery = false
  /// RFC 6582's `recover`: SND.MAX when the last episode (or timeout) began.
  var recoveryPoint: SequenceNumber
  /// Without SACK: extra window during NewReno recovery and limited transmit (RFC 3042), in
  /// bytes.
  var windowInflation = 0
  /// RACK's reordering timer (RFC 8985 §6.2 step 6): when a segment becomes lost unless
  /// something is delivered first.
  var reorderDeadline: Instant?
  /// The tail loss probe timer (RFC 8985 §7.2).
  var probeDeadline: Instant?
  /// A tail loss probe is out and not yet answered.
  var probeOutstanding = false
  /// A retransmission is owed whatever the congestion window: the fast retransmit that starts
  /// a recovery episode (RFC 5681 §3.2 step 2, RFC 6675 §5 step 4.3) or NewReno's after a
  /// partial acknowledgment (RFC 6582 §3.2 step 5). Every other one waits for cwnd − pipe.
  var retransmissionOwed = false

  /// Recovery for a connection whose initial send sequence is `initialSequence` (no episode
  /// yet: the recovery point is the ISS).
  init(initialSequence: SequenceNumber) {
    recoveryPoint = initialSequence
  }

  /// The earlier of the reordering and probe timers.
  var nextDeadline: Instant? { Instant.earliest(reorderDeadline, probeDeadline) }

  /// Stops both timers (everything acknowledged, a timeout, or the connection closed).
  mutating func stopTimers() {
    reorderDeadline = nil
    probeDeadline = nil
  }

  /// Whether a new episode may start: none is under way, and the last one (or timeout) is
  /// behind SND.UNA (RFC 6582 §3.2 step 2, RFC 6675 §5 step 4).
  func mayStartEpisode(sendUnacknowledged: SequenceNumber, initialSendSequence: SequenceNumber)
    -> Bool
  {
    !inRecovery && (recoveryPoint <= sendUnacknowledged || recoveryPoint == initialSendSequence)
  }

  /// Starts an episode that lasts until SND.UNA passes `sendMaximum`: the fast retransmit is
  /// owed, and no tail loss probe goes during it (RFC 8985 §7.2: one armed before would resend
  /// the last segment, SACKed or not).
  mutating func startEpisode(sendMaximum: SequenceNumber) {
    inRecovery = true
    recoveryPoint = sendMaximum
    retransmissionOwed = true
    probeDeadline = nil
  }

  /// A full acknowledgment ends the episode (RFC 6582 §3.2 step 3).
  mutating func endEpisode() {
    inRecovery = false
    windowInflation = 0
    duplicateAcknowledgments = 0
    retransmissionQueue.recoveryEnded()
  }

  /// Without SACK, a partial acknowledgment of `acknowledged` bytes: the next segment is lost
  /// too and goes at once; the inflation deflates by what was acknowledged (RFC 6582 §3.2
  /// step 5).
  mutating func partialAcknowledgment(acknowledged: Int, maximumSegmentSize: Int) {
    retransmissionQueue.markFirstLost()
    retransmissionOwed = true
    windowInflation = max(windowInflation - acknowledged, 0) + maximumSegmentSize
  }

  /// New data acknowledged outside an episode: duplicate ACKs start counting again.
  mutating func progressed() {
    duplicateAcknowledgments = 0
    windowInflation = 0
  }

  /// A duplicate acknowledgment (RFC 5681 §2). Without SACK: limited transmit for the first
  /// two (RFC 3042), window inflation during recovery (RFC 6582); at the third, the first
  /// segment is judged lost and true is returned: the fast retransmit (RFC 5681 §3.2) may
  /// start an episode. With SACK, the SACK blocks it carries do the work.
  mutating func duplicateAcknowledgment(useSACK: Bool, maximumSegmentSize mss: Int) -> Bool {
    duplicateAcknowledgments += 1
    guard !useSACK else { return false }
    if inRecovery {
      windowInflation += mss
      return false
    }
    if duplicateAcknowledgments < 3 {
      windowInflation = duplicateAcknowledgments * mss
      return false
    }
    retransmissionQueue.markFirstLost()
    return true
  }

  /// The retransmission timer expired with data outstanding (RFC 6298 §5.4–5.5, RFC 5681
  /// §3.1): any episode ends, the earliest segment is owed, and everything outstanding is
  /// judged lost; SACKed data goes again only after a second timeout running, which means the
  /// receiver may have dropped it (RFC 2018 §8).
  mutating func retransmissionTimedOut(sendMaximum: SequenceNumber, timeoutsRunning: Int) {
    inRecovery = false
    windowInflation = 0
    duplicateAcknowledgments = 0
    probeOutstanding = false
    retransmissionOwed = true
    recoveryPoint = sendMaximum
    if timeoutsRunning >= 2 { retransmissionQueue.clearSACKs() }
    retransmissionQueue.markAllLost()
  }
}
