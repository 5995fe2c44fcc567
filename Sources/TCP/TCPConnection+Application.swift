import NetCore

/// A connection's application side (RFC 9293 §3.10.2 SEND, §3.10.3 RECEIVE, §3.10.4 CLOSE,
/// §3.10.5 ABORT, §3.10.6 STATUS): what the application may read and write, the receive
/// window it opens by reading (with receive-buffer moderation, Linux's DRS, and the
/// receiver's silly-window avoidance of RFC 9293 §3.8.6.2.2), and the close.
extension TCPConnection {
  /// Bytes the application can read now.
  var readableBytes: Int { receiver.buffer.count }
  /// Bytes the application can write now: up to ``sendBufferTarget``.
  var writableBytes: Int {
    state.canSendData && !sender.finQueued ? max(sendBufferTarget - sender.buffer.count, 0) : 0
  }

  /// How much written data the connection holds at most: what may be in flight (the peer's
  /// window, at most twice the congestion window) plus a small backlog
  /// (``TCPConfiguration/minimumSendBuffer``), within the configured maximum. The buffer
  /// grows with the congestion window, as Linux's `tcp_sndbuf_expand` does, and a peer that
  /// stops reading (its window closing) leaves no more than the backlog queued. Under memory
  /// pressure the congestion window counts once, not twice.
  var sendBufferTarget: Int {
    let congestionShare = shared.budget.isUnderPressure ? 1 : 2
    let inFlight = min(sender.window, congestionShare * congestion.congestionWindow)
    return min(configuration.minimumSendBuffer + max(inFlight, 0), configuration.sendBufferSize)
  }
  /// Bytes written but not yet acknowledged.
  var unacknowledgedBytes: Int { sender.buffer.count }
  /// Whether every byte the peer will send has been read (its FIN arrived, the buffer is empty).
  var isAtEndOfStream: Bool { receiver.finReceived && receiver.buffer.count == 0 }
  /// The smoothed round-trip time, once measured.
  var smoothedRoundTripTime: Interval? { retransmissionTimeout.smoothedRoundTripTime }
  /// The receive buffer's current ceiling (it grows with use up to the configured maximum).
  var receiveBufferLimit: Int { receiver.buffer.limit }
  /// Bytes of memory this connection's buffers hold.
  var bufferedMemory: Int { sender.buffer.charged + receiver.buffer.charged }

  /// What the connection looks like now, as a value for those outside the layer.
  var info: TCPConnectionInfo {
    TCPConnectionInfo(
      tuple: tuple, state: state, isPassive: isPassive, error: error,
      readableBytes: readableBytes, writableBytes: writableBytes,
      isAtEndOfStream: isAtEndOfStream, finReceived: receiver.finReceived,
      unacknowledgedBytes: unacknowledgedBytes, sendBufferTarget: sendBufferTarget,
      receiveBufferLimit: receiveBufferLimit, bufferedMemory: bufferedMemory,
      sendWindow: sender.window,
      receiveWindow: max(receiver.advertisedWindowEdge - receiver.next, 0),
      sendMaximumSegmentSize: sendMaximumSegmentSize,
      effectiveSendSegmentSize: effectiveSendSegmentSize,
      windowScalingEnabled: windowScalingEnabled, sendWindowShift: sendWindowShift,
      receiveWindowShift: receiveWindowShift, timestampsEnabled: timestampsEnabled,
      sackEnabled: sackEnabled, congestionWindow: congestion.congestionWindow,
      slowStartThreshold: congestion.slowStartThreshold, inRecovery: recovery.inRecovery,
      smoothedRoundTripTime: smoothedRoundTripTime,
      retransmissionTimeout: retransmissionTimeout.baseTimeout, bytesReceived: bytesReceived,
      bytesSent: bytesSent, segmentsRetransmitted: segmentsRetransmitted)
  }

  /// Queues bytes to send; returns how many fit in the send buffer (RFC 9293 §3.10.2 SEND):
  /// up to ``sendBufferTarget``, and what the memory budget allows.
  func write(_ bytes: Span<UInt8>) throws(TCPError) -> Int {
    try checkWritable()
    let taken = sender.buffer.append(bytes, limit: sendBufferTarget)
    shared.counters.sendBytesCopiedIn += UInt64(taken)
    return taken
  }

  /// Queues bytes to send by holding the application's array rather than copying it (a
  /// write of fewer than `TCPSendBuffer.minimumHeld` bytes is copied, or waits for more
  /// room); says what became of them. The bytes are copied once, into their segments.
  func write(holding bytes: ArraySlice<UInt8>) throws(TCPError) -> TCPSendBuffer.HoldOutcome {
    try checkWritable()
    let outcome = sender.buffer.append(holding: bytes, limit: sendBufferTarget)
    switch outcome {
    case .held(let count): shared.counters.sendBytesHeld += UInt64(count)
    case .copied(let count): shared.counters.sendBytesCopiedIn += UInt64(count)
    case .deferred: break
    }
    return outcome
  }

  /// Lets `body` write up to `maximum` bytes straight into the send buffer's free space (one
  /// contiguous piece, within ``sendBufferTarget`` and the memory budget); returns how many it
  /// wrote, which are queued to send.
  func fill(upTo maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) throws(TCPError)
    -> Int
  {
    try checkWritable()
    let written = sender.buffer.fill(upTo: maximum, limit: sendBufferTarget, body)
    shared.counters.sendBytesFilledInPlace += UInt64(written)
    return written
  }

  /// Throws why the application cannot write, if it cannot: the connection failed, or it can
  /// send no more (its FIN is queued, or it never opened).
  func checkWritable() throws(TCPError) {
    if let error { throw error }
    guard state.canSendData, !sender.finQueued else { throw .notConnected }
  }

  /// Copies received bytes out; returns how many (0 with nothing to read). RFC 9293 §3.10.3.
  func read(into destination: UnsafeMutableRawBufferPointer, now: Instant) -> Int {
    let count = receiver.buffer.read(into: destination)
    shared.counters.receiveBytesCopiedOut += UInt64(count)
    if count > 0 { applicationTook(count, now: now) }
    return count
  }

  /// Hands received bytes to `body` in place until it takes fewer than it was given; returns
  /// how many it took.
  func consume(now: Instant, _ body: (Span<UInt8>) -> Int) -> Int {
    let count = receiver.buffer.consume(body)
    shared.counters.receiveBytesTakenInPlace += UInt64(count)
    if count > 0 { applicationTook(count, now: now) }
    return count
  }

  /// Drops up to `length` received bytes unread (what a discard service does).
  func discard(_ length: Int, now: Instant) -> Int {
    let count = receiver.buffer.discard(length)
    shared.counters.receiveBytesTakenInPlace += UInt64(count)
    if count > 0 { applicationTook(count, now: now) }
    return count
  }

  /// The application took `count` bytes: moderate the buffer, and announce the window if it
  /// opened enough.
  private func applicationTook(_ count: Int, now: Instant) {
    receiver.spaceCopied += count
    adjustReceiveSpace(now: now)
    windowOpened()
  }

  /// Receive-buffer moderation (Linux `tcp_rcv_space_adjust`, after Dynamic Right-Sizing):
  /// once per round trip, if the application took more than in any round trip before (at
  /// first: more than the initial window), the buffer grows to twice what it took plus
  /// sixteen segments, so that the window stays ahead of what the path delivers; up to the
  /// configured maximum, and not under memory pressure. The round trip is the receiver's
  /// estimate, or the sender's when the receiver has none yet (the handshake gives one).
  func adjustReceiveSpace(now: Instant) {
    let roundTrip = receiver.roundTripTime ?? retransmissionTimeout.smoothedRoundTripTime
    let period = max(roundTrip ?? .milliseconds(200), .milliseconds(1))
    guard now - receiver.spaceStart >= period else { return }
    let copied = receiver.spaceCopied
    receiver.spaceCopied = 0
    receiver.spaceStart = now
    guard copied > receiver.spaceLast else { return }
    receiver.spaceLast = copied
    guard receiver.buffer.limit < configuration.receiveBufferSize,
      configuration.initialReceiveBufferSize == nil
    else { return }
    guard !shared.budget.isUnderPressure else {
      shared.counters.windowGrowthRefused += 1
      return
    }
    let wanted = 2 * copied + 16 * receiveMaximumSegmentSize
    if wanted > receiver.buffer.limit {
      receiver.buffer.limit = min(wanted, configuration.receiveBufferSize)
      shared.counters.receiveBufferGrowths += 1
    }
  }

  /// A receiver's round-trip sample: `sample` since the segment that drew it was sent.
  func addReceiveRoundTripSample(_ sample: Interval) {
    guard sample >= .zero, sample < .seconds(60) else { return }
    if let current = receiver.roundTripTime {
      receiver.roundTripTime = Interval(
        nanoseconds: (current.nanoseconds * 7 + sample.nanoseconds) / 8)
    } else {
      receiver.roundTripTime = sample
    }
  }

  /// After the application read: announce a window that grew enough (receiver-side silly
  /// window avoidance, RFC 9293 §3.8.6.2.2: by at least min(half the buffer, 2 MSS)).
  /// The window that can be announced is the free space only up to what the window field
  /// holds (65535 << Rcv.Wind.Shift, RFC 7323 §2.3).
  private func windowOpened() {
    let advertised = max(receiver.advertisedWindowEdge - receiver.next, 0)
    let threshold = min(receiver.buffer.limit / 2, 2 * receiveMaximumSegmentSize)
    if offerableWindow - advertised >= threshold && state.canReceiveData {
      receiver.acknowledgmentNeeded = true
    }
  }

  /// No more data will be written: send FIN after what is queued (RFC 9293 §3.10.4 CLOSE,
  /// as a half-close).
  ///
  /// In SYN-RECEIVED the FIN is only queued: "queue for processing after entering ESTABLISHED
  /// state" (§3.10.4); the ACK of our SYN moves the connection on to FIN-WAIT-1.
  func shutdownWrite() {
    guard !sender.finQueued else { return }
    switch state {
    case .synSent:
      state = .closed
      events.insert(.closed)
    case .synReceived:
      sender.finQueued = true
    case .established:
      sender.finQueued = true
      state = .finWait1
    case .closeWait:
      sender.finQueued = true
      state = .lastAck
    default:
      break
    }
  }

  /// The application is done with the connection: FIN after the queued data, or RST if
  /// received data is left unread (RFC 1122 §4.2.2.13).
  func close() {
    applicationClosed = true
    if receiver.buffer.count > 0 {
      abort()
      return
    }
    shutdownWrite()
  }

  /// Under memory pressure: drops the out-of-order data and the storage the buffers no longer
  /// need; returns how many out-of-order bytes were dropped. Nothing becomes due: the sender
  /// still has what was dropped (RFC 2018 §8).
  func giveBackMemory() -> Int {
    let pruned = receiver.buffer.pruneOutOfOrder()
    receiver.buffer.shrinkToFit()
    sender.buffer.shrinkToFit()
    return pruned
  }

  /// Resets the connection at once (RFC 9293 §3.10.5 ABORT): RST goes out at the next output
  /// if the connection was synchronized.
  func abort() {
    guard state != .closed else { return }
    resetPending = state.isSynchronized || state == .synReceived
    enterClosed(error: .aborted)
  }
}
