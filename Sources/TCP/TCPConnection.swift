import NetCore

/// One TCP connection: the state machine of RFC 9293 §3.10 with the send and receive
/// sequence spaces (§3.3.1), options (RFC 7323, RFC 2018), retransmission (RFC 6298), loss
/// recovery (RFC 5681, RFC 6582, RFC 6675) and congestion control.
///
/// The connection is driven by its `TCPLayer`: `segmentArrives(_:now:)` for each segment of
/// its 4-tuple, `output(now:network:)` to send what is due, `timersExpire(now:network:)`
/// when ``nextDeadline`` passes, and the application calls (`write(_:)`, `read(into:)`,
/// `shutdownWrite()`, `close()`, `abort()`). It never reads a clock or touches a device.
///
/// Its state is split by side, as gVisor's `sender` and `receiver`: ``sender``
/// (`TCPSender`: SND.*, send buffer, FIN queued), ``receiver`` (`TCPReceiver`: RCV.*,
/// receive buffer and moderation, what the next ACK reports, FIN received) and ``recovery``
/// (`TCPLossRecovery`: scoreboard, duplicate ACKs, the recovery episode, RACK, TLP). The
/// connection keeps its identity and state, the options negotiated, the congestion controller
/// and RTO estimator, the timers that span sides, and coordinates them.
///
/// The code is split by concern across files: this one holds the state, the opening and the
/// option negotiation; `TCPConnection+Application.swift` the application side (§3.10.2–6);
/// `TCPConnection+SegmentArrives.swift` RFC 9293 §3.10.7.4 step by step, with SYN-SENT
/// (§3.10.7.3) in `TCPConnection+SynSent.swift`, the ACK field's send-side work and loss
/// recovery in `TCPConnection+Acknowledgment.swift` and the text and FIN in
/// `TCPConnection+ReceiveText.swift`; `TCPConnection+Output.swift` decides and builds
/// segments, `TCPConnection+Retransmission.swift` what it sends again;
/// `TCPConnection+Timers.swift` handles the timers.
final class TCPConnection {
  // MARK: Identity

  /// Local and remote addresses and ports.
  let tuple: TCPFourTuple
  /// The RFC 9293 state.
  var state: TCPState
  /// Whether a listener opened it (passive open).
  let isPassive: Bool
  let configuration: TCPConfiguration
  let shared: TCPSharedState

  // MARK: Send sequence space (RFC 9293 §3.3.1)

  /// The send side: SND.*, the send buffer, the FIN queued.
  var sender: TCPSender

  // MARK: Receive sequence space

  /// The receive side: RCV.*, the receive buffer and its moderation, what the next ACK
  /// reports, the FIN received.
  var receiver: TCPReceiver

  // MARK: Options

  /// Largest payload the peer accepts (its MSS option, default 536 over IPv4 and 1220 over
  /// IPv6), within our MTU.
  var sendMaximumSegmentSize: Int
  /// The MSS we advertise.
  let receiveMaximumSegmentSize: Int
  /// Window scale shifts (RFC 7323 §2): Snd.Wind.Shift and Rcv.Wind.Shift.
  var sendWindowShift: UInt8 = 0
  var receiveWindowShift: UInt8 = 0
  /// Window scaling in use (both sides offered it).
  var windowScalingEnabled = false
  /// Timestamps in use (both sides offered them).
  var timestampsEnabled = false
  /// TS.Recent and when it was set (RFC 7323 §4.3, §5.5).
  var timestampRecent: UInt32 = 0
  var timestampRecentTime = Instant.zero
  /// Added to our timestamp clock so that it does not reveal uptime (RFC 7323 §7.1).
  let timestampOffset: UInt32
  /// SACK in use (both sides offered it).
  var sackEnabled = false

  // MARK: Timers

  var retransmissionDeadline: Instant?
  var persistDeadline: Instant?
  var delayedAcknowledgmentDeadline: Instant?
  var keepaliveDeadline: Instant?
  var finWait2Deadline: Instant?
  /// Since when data (or our FIN) has waited for the peer without SND.UNA moving: the user
  /// timeout (RFC 9293 §3.8.3, RFC 5482) aborts the connection after
  /// ``TCPConfiguration/userTimeout`` of it, whether the peer is silent or keeps its window
  /// shut.
  var stalledSince: Instant?
  /// Consecutive expiries of the retransmission timer.
  var retransmissionCount = 0
  var persistBackoff = 0
  var keepaliveProbesSent = 0
  var retransmissionTimeout: RetransmissionTimeoutEstimator
  /// The segment being timed for an RTT sample (Karn's algorithm: never a retransmission).
  var roundTripProbe: (sequence: SequenceNumber, sentAt: Instant)?
  /// When a segment last arrived (keepalive idle time).
  var lastReceived: Instant
  /// When keepalive was turned on for this connection, if after it opened.
  var keepaliveEnabledAt = Instant.zero

  // MARK: Acknowledgments

  /// When a bare ACK last answered an out-of-window segment (they are rate-limited).
  var lastOutOfWindowAcknowledgment: Instant?

  // MARK: Loss recovery and congestion control

  var congestion: CongestionController
  /// The scoreboard, duplicate ACKs, the recovery episode, RACK and TLP.
  var recovery: TCPLossRecovery

  // MARK: Application

  /// Nagle's algorithm (RFC 9293 §3.7.4).
  var nagle: Bool
  /// Keepalive settings; change them with `TCPLayer.setKeepalive(_:_:)`, which re-arms the
  /// timer.
  var keepalive: TCPKeepalive? {
    didSet { keepaliveProbesSent = 0 }
  }
  /// The application closed the connection entirely: it reads nothing more.
  var applicationClosed = false
  /// Why the connection failed, if it did.
  var error: TCPError?
  /// The last soft ICMP error about this connection (RFC 1122 §4.2.3.9): reported instead of
  /// a bare time-out if the connection times out.
  var softError: TCPError?
  /// Events not yet taken by the owner.
  var events = TCPConnectionEvents()
  /// An RST must be sent at the next output (after ``abort()``).
  var resetPending = false
  /// An RST `<SEQ=this><CTL=RST>` must be sent at the next output: the answer to an
  /// unacceptable ACK in SYN-SENT or SYN-RECEIVED (RFC 9293 §3.10.7.3–4).
  var resetToSend: SequenceNumber?

  // MARK: Statistics

  var bytesReceived: UInt64 = 0
  var bytesSent: UInt64 = 0
  var segmentsRetransmitted: UInt64 = 0

  /// What the stack charges its memory budget for a connection's state, beyond its buffers:
  /// this object, its entry in the layer's tables and its timers (measured: 10,000 idle
  /// connections).
  static let stateCharge = 1536

  // MARK: Opening

  /// The state both kinds of open start from: nothing sent yet, ISS chosen, buffers empty
  /// (and unallocated), the RFC 6298 initial timeout, the configured defaults.
  private init(
    tuple: TCPFourTuple, state: TCPState, isPassive: Bool, initialSequence: SequenceNumber,
    maximumPayload: Int, configuration: TCPConfiguration, shared: TCPSharedState,
    timestampOffset: UInt32, now: Instant
  ) {
    self.tuple = tuple
    self.state = state
    self.isPassive = isPassive
    self.configuration = configuration
    self.shared = shared
    sender = TCPSender(
      initialSequence: initialSequence, buffer: TCPSendBuffer(budget: shared.budget))
    recovery = TCPLossRecovery(initialSequence: initialSequence)
    receiveMaximumSegmentSize = max(maximumPayload - TCPHeader.minimumLength, 64)
    receiver = TCPReceiver(
      buffer: TCPReceiveBuffer(
        limit: TCPConnection.initialReceiveLimit(
          configuration: configuration, segmentSize: receiveMaximumSegmentSize,
          underPressure: shared.budget.isUnderPressure),
        budget: shared.budget),
      now: now)
    sendMaximumSegmentSize = min(tuple.defaultMaximumSegmentSize, receiveMaximumSegmentSize)
    self.timestampOffset = timestampOffset
    retransmissionTimeout = RetransmissionTimeoutEstimator()
    retransmissionTimeout.minimum = configuration.minimumRetransmissionTimeout
    retransmissionTimeout.maximum = configuration.maximumRetransmissionTimeout
    congestion = CongestionController(
      configuration.congestionAlgorithm, maximumSegmentSize: tuple.defaultMaximumSegmentSize)
    nagle = configuration.nagle
    keepalive = configuration.keepalive
    lastReceived = now
    if configuration.windowScaling {
      receiveWindowShift = TCPConnection.windowShift(for: configuration.receiveBufferSize)
    }
  }

  /// A connection in SYN-SENT (active open, RFC 9293 §3.10.1): its SYN goes out at the next
  /// ``output(now:network:)``.
  convenience init(
    activeOpen tuple: TCPFourTuple, initialSequence: SequenceNumber, maximumPayload: Int,
    configuration: TCPConfiguration, shared: TCPSharedState, timestampOffset: UInt32, now: Instant
  ) {
    self.init(
      tuple: tuple, state: .synSent, isPassive: false, initialSequence: initialSequence,
      maximumPayload: maximumPayload, configuration: configuration, shared: shared,
      timestampOffset: timestampOffset, now: now)
  }

  /// A connection in SYN-RECEIVED, from a SYN that reached a listener (RFC 9293 §3.10.7.2):
  /// its SYN-ACK goes out at the next ``output(now:network:)``.
  convenience init(
    passiveOpen tuple: TCPFourTuple, synSequence: SequenceNumber, synOptions: TCPOptions,
    synWindow: UInt16, initialSequence: SequenceNumber, maximumPayload: Int,
    configuration: TCPConfiguration, shared: TCPSharedState, timestampOffset: UInt32, now: Instant
  ) {
    self.init(
      tuple: tuple, state: .synReceived, isPassive: true, initialSequence: initialSequence,
      maximumPayload: maximumPayload, configuration: configuration, shared: shared,
      timestampOffset: timestampOffset, now: now)
    receiver.initialSequence = synSequence
    receiver.next = synSequence + 1
    receiver.lastAcknowledgmentSent = receiver.next
    receiver.advertisedWindowEdge = receiver.next
    negotiate(peer: synOptions, weOffered: nil, now: now)
    // The window of a SYN is never scaled (RFC 7323 §2.2).
    sender.window = Int(synWindow)
    sender.maximumWindow = sender.window
    sender.windowUpdateSequence = synSequence
  }

  /// Applies the options of the peer's SYN (RFC 7323 §1.3, RFC 2018 §2, RFC 9293 §3.7.1).
  /// `weOffered` is what our own SYN carried (nil for a passive open: we answer with whatever
  /// we support and the peer offered).
  func negotiate(peer: TCPOptions, weOffered: TCPOptions?, now: Instant) {
    let peerMSS = peer.maximumSegmentSize.map(Int.init) ?? tuple.defaultMaximumSegmentSize
    sendMaximumSegmentSize = max(min(peerMSS, receiveMaximumSegmentSize), 64)
    let offeredScale = weOffered.map { $0.windowScale != nil } ?? configuration.windowScaling
    if let shift = peer.windowScale, offeredScale {
      sendWindowShift = shift
      windowScalingEnabled = true
    } else {
      windowScalingEnabled = false
      sendWindowShift = 0
      receiveWindowShift = 0
    }
    if !configuration.windowScaling { receiveWindowShift = 0 }
    let offeredTimestamps = weOffered.map { $0.timestamp != nil } ?? configuration.timestamps
    if let timestamp = peer.timestamp, offeredTimestamps {
      timestampsEnabled = true
      timestampRecent = timestamp.value
      timestampRecentTime = now
    }
    let offeredSACK = weOffered.map { $0.sackPermitted } ?? configuration.selectiveAcknowledgments
    sackEnabled = peer.sackPermitted && offeredSACK
    congestion = CongestionController(
      configuration.congestionAlgorithm, maximumSegmentSize: effectiveSendSegmentSize)
  }

  /// The smallest window shift that lets `bufferSize` be advertised (RFC 7323 §2.3, max 14).
  static func windowShift(for bufferSize: Int) -> UInt8 {
    var shift: UInt8 = 0
    while shift < 14 && (65535 << Int(shift)) < bufferSize { shift += 1 }
    return shift
  }

  /// Payload bytes in a full-sized segment: the peer's MSS less our per-segment options
  /// (RFC 9293 §3.7.1: timestamps take 12 bytes of it). Congestion control counts in these.
  var effectiveSendSegmentSize: Int {
    max(sendMaximumSegmentSize - (timestampsEnabled ? 12 : 0), 16)
  }

  /// The receive buffer a connection starts with: room for a peer's initial window of ten
  /// segments (RFC 6928; Linux's `TCP_DEFAULT_INIT_RCVWND`), four under memory pressure (Linux
  /// clamps `rcv_ssthresh` to 4 × MSS then), within the configured maximum; it grows as the
  /// application shows it reads faster (``adjustReceiveSpace(now:)``).
  static func initialReceiveLimit(
    configuration: TCPConfiguration, segmentSize: Int, underPressure: Bool
  ) -> Int {
    if let fixed = configuration.initialReceiveBufferSize {
      return min(fixed, configuration.receiveBufferSize)
    }
    let segments = underPressure ? 4 : 10
    return min(max(segments * segmentSize, 4096), configuration.receiveBufferSize)
  }

  /// Payload bytes that fit the next segment: like ``effectiveSendSegmentSize``, less the
  /// SACK blocks it will carry while data is missing on our receive side.
  var segmentPayloadLimit: Int {
    let held = receiver.buffer.outOfOrderRangeCount + (receiver.duplicateReport == nil ? 0 : 1)
    let blocks = sackEnabled ? min(held, timestampsEnabled ? 3 : 4) : 0
    return max(effectiveSendSegmentSize - (blocks > 0 ? 4 + 8 * blocks : 0), 16)
  }

  /// Moves to CLOSED, recording why if it failed.
  func enterClosed(error failure: TCPError?) {
    if error == nil { error = failure }
    state = .closed
    retransmissionDeadline = nil
    persistDeadline = nil
    delayedAcknowledgmentDeadline = nil
    keepaliveDeadline = nil
    finWait2Deadline = nil
    recovery.stopTimers()
    stalledSince = nil
    events.insert(.closed)
    events.insert(.readable)
    events.insert(.writable)
  }

  /// Takes the pending events.
  func takeEvents() -> TCPConnectionEvents {
    defer { events = [] }
    return events
  }

  /// Our timestamp clock: milliseconds, offset per connection.
  func timestampClock(_ now: Instant) -> UInt32 {
    UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ timestampOffset
  }
}
