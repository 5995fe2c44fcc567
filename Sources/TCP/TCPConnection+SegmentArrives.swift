import IPv4
import NetCore

/// RFC 9293 §3.10.7 "SEGMENT ARRIVES" for a connection (the LISTEN and CLOSED cases belong to
/// the layer), in the RFC's order: check the sequence number, RST, SYN, ACK, the segment
/// text, FIN. With RFC 5961's challenge ACKs, RFC 7323's PAWS and timestamps, RFC 2018's SACK.
extension TCPConnection {
  /// Processes one segment of this connection's 4-tuple.
  func segmentArrives(_ segment: borrowing TCPSegment, now: Instant) {
    lastReceived = now
    keepaliveProbesSent = 0
    if state == .synSent {
      synSentSegmentArrives(segment, now: now)
      return
    }
    let flags = segment.flags
    let sequence = segment.sequenceNumber
    let length = segment.sequenceLength

    // Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN-ACK repeats the SYN we
    // have acknowledged, so it fails the sequence check, but its ACK of our SYN establishes
    // the connection. Answering it with our SYN-ACK again would make two such ends trade
    // SYN-ACKs for ever (Linux lets it pass the same way, in tcp_validate_incoming).
    let simultaneousOpenSynAck =
      state == .synReceived && !isPassive && flags.contains([.syn, .ack])
      && !flags.contains(.rst) && sequence == initialReceiveSequence && length == 1
      && segment.acknowledgmentNumber == initialSendSequence + 1

    // First, check the sequence number (§3.10.7.4), and PAWS (RFC 7323 §5.3). With a zero
    // window, a segment at RCV.NXT still has its ACK and RST looked at, not its text.
    let textAllowed = isAcceptable(sequence: sequence, length: length)
    if !textAllowed && !simultaneousOpenSynAck
      && !(sequence == receiveNext && advertisedWindowEdge - receiveNext <= 0)
    {
      shared.counters.droppedOutOfWindow += 1
      if state == .synReceived && flags.contains(.syn) && sequence == initialReceiveSequence {
        sendNext = initialSendSequence  // a retransmitted SYN: send the SYN-ACK again
      } else if !flags.contains(.rst) {
        // Data wholly below RCV.NXT arrived again (most often a spurious retransmission):
        // the ACK reports it as a D-SACK (RFC 2883 §4.1.1).
        let payloadLength = segment.payload.count
        if sackEnabled && payloadLength > 0 && sequence + payloadLength <= receiveNext {
          duplicateReport = SACKBlock(left: sequence, right: sequence + payloadLength)
        }
        // Answer with a duplicate ACK; for bare ACKs at most twice a second, so that two
        // confused ends cannot ping-pong ACKs forever (Linux's tcp_invalid_ratelimit).
        if length > 0
          || lastOutOfWindowAcknowledgment.map({ now - $0 >= TCPConnection.invalidSegmentRateLimit }
          )
            ?? true
        {
          lastOutOfWindowAcknowledgment = now
          acknowledgmentNeeded = true
        }
      }
      return
    }
    if timestampsEnabled, !flags.contains(.rst), let timestamp = segment.options.timestamp {
      let older = Int32(bitPattern: timestamp.value &- timestampRecent) < 0
      let recentIsStale = now - timestampRecentTime > .seconds(24 * 24 * 3600)
      // A bare ACK carries no data that a wrapped sequence number could corrupt; reordered
      // ACKs are common and harmless, so PAWS lets them through (Linux: tcp_disordered_ack).
      let bareAcknowledgment = length == 0 && flags == .ack
      if older && !recentIsStale && !bareAcknowledgment {
        shared.counters.droppedPAWS += 1
        acknowledgmentNeeded = true
        return
      }
    }

    // Second, the RST bit (RFC 5961 §3.2: exactly RCV.NXT resets, else a challenge ACK).
    if flags.contains(.rst) {
      shared.counters.resetsReceived += 1
      guard sequence == receiveNext else {
        sendChallengeAcknowledgment(now: now)
        return
      }
      switch state {
      case .synReceived:
        enterClosed(error: isPassive ? nil : .connectionRefused)
      case .established, .finWait1, .finWait2, .closeWait:
        shared.counters.connectionsReset += 1
        enterClosed(error: .connectionReset)
      default:
        enterClosed(error: nil)
      }
      return
    }

    // Fourth, the SYN bit: in a synchronized state, a challenge ACK (RFC 5961 §4.2).
    if flags.contains(.syn) && !simultaneousOpenSynAck {
      if state == .synReceived && !isPassive {
        // Simultaneous open: the peer's SYN again; our SYN-ACK answers it.
        sendNext = initialSendSequence
        return
      }
      sendChallengeAcknowledgment(now: now)
      return
    }

    // Fifth, the ACK field.
    guard flags.contains(.ack) else { return }
    let acknowledgment = segment.acknowledgmentNumber
    if state == .synReceived {
      guard sendUnacknowledged < acknowledgment && acknowledgment <= sendMaximum else {
        resetFor(acknowledgment: acknowledgment)
        return
      }
      state = .established
      events.insert(.established)
      shared.counters.connectionsEstablished += 1
      sendWindow = Int(segment.window) << Int(flags.contains(.syn) ? 0 : sendWindowShift)
      maximumSendWindow = max(maximumSendWindow, sendWindow)
      sendWindowUpdateSequence = sequence
      sendWindowUpdateAcknowledgment = acknowledgment
      if finQueued { state = .finWait1 }
    }
    if !processAcknowledgment(segment, now: now) { return }

    // A receiver's round-trip sample: data that echoes one of our timestamps (RFC 7323 §4.3;
    // Linux `tcp_rcv_rtt_measure_ts`), for receive-buffer moderation.
    if timestampsEnabled, !segment.payload.isEmpty, let timestamp = segment.options.timestamp,
      timestamp.echoReply != 0
    {
      let elapsed = Int32(bitPattern: timestampClock(now) &- timestamp.echoReply)
      if elapsed >= 0 {
        addReceiveRoundTripSample(.milliseconds(Int64(max(elapsed, 1))))
      }
    }

    // Timestamps: TS.Recent follows the segment that covers Last.ACK.sent (RFC 7323 §4.3).
    if timestampsEnabled, let timestamp = segment.options.timestamp,
      sequence <= lastAcknowledgmentSent,
      Int32(bitPattern: timestamp.value &- timestampRecent) >= 0
    {
      timestampRecent = timestamp.value
      timestampRecentTime = now
    }

    // Our FIN acknowledged?
    if finQueued, let finSequence = finSequenceNumber, finSequence < sendUnacknowledged {
      switch state {
      case .finWait1:
        state = .finWait2
        if applicationClosed { finWait2Deadline = now + configuration.finWait2Timeout }
      case .closing:
        enterTimeWait()
        return
      case .lastAck:
        enterClosed(error: nil)
        return
      default:
        break
      }
    }

    // Seventh, the segment text (sixth, URG, is not supported: the pointer is ignored).
    let payload = segment.payload
    if !payload.isEmpty {
      guard state.canReceiveData, textAllowed else {
        acknowledgmentNeeded = true
        return
      }
      if applicationClosed {
        // Data for a connection nobody will read: reset it (RFC 1122 §4.2.2.13).
        abort()
        return
      }
      receiveText(payload, at: sequence, now: now)
    }

    // Eighth, the FIN bit.
    if flags.contains(.fin) {
      let finSequence = sequence + payload.count
      if finSequence == receiveNext {
        receiveFin(now: now)
      } else if receiveNext < finSequence {
        pendingFinSequence = finSequence
        acknowledgmentNeeded = true
      } else if state == .timeWait || finReceived {
        acknowledgmentNeeded = true  // a retransmitted FIN
      }
    }
  }

  /// The four cases of RFC 9293 §3.10.7.4 "first, check sequence number".
  func isAcceptable(sequence: SequenceNumber, length: Int) -> Bool {
    let window = max(advertisedWindowEdge - receiveNext, 0)
    if length == 0 {
      if window == 0 { return sequence == receiveNext }
      return sequence.isInWindow(start: receiveNext, length: window)
    }
    if window == 0 { return false }
    return sequence.isInWindow(start: receiveNext, length: window)
      || (sequence + (length - 1)).isInWindow(start: receiveNext, length: window)
  }

  /// SYN-SENT (RFC 9293 §3.10.7.3).
  private func synSentSegmentArrives(_ segment: borrowing TCPSegment, now: Instant) {
    let flags = segment.flags
    let acknowledgment = segment.acknowledgmentNumber
    var acknowledgmentAcceptable = false
    if flags.contains(.ack) {
      guard initialSendSequence < acknowledgment && acknowledgment <= sendMaximum else {
        if !flags.contains(.rst) { resetFor(acknowledgment: acknowledgment) }
        return
      }
      acknowledgmentAcceptable = true
    }
    if flags.contains(.rst) {
      if acknowledgmentAcceptable {
        shared.counters.resetsReceived += 1
        enterClosed(error: .connectionRefused)
      }
      return
    }
    guard flags.contains(.syn) else { return }
    initialReceiveSequence = segment.sequenceNumber
    receiveNext = initialReceiveSequence + 1
    advertisedWindowEdge = receiveNext
    lastAcknowledgmentSent = receiveNext
    negotiate(peer: segment.options, weOffered: offeredOptions, now: now)
    if acknowledgmentAcceptable {
      takeRoundTripSample(acknowledgment: acknowledgment, now: now)
      sendUnacknowledged = acknowledgment
      retransmissionDeadline = nil
      retransmissionCount = 0
      retransmissionTimeout.acknowledged()
      state = .established
      events.insert(.established)
      events.insert(.writable)
      shared.counters.connectionsEstablished += 1
      // The window of a SYN is never scaled (RFC 7323 §2.2).
      sendWindow = Int(segment.window)
      maximumSendWindow = sendWindow
      sendWindowUpdateSequence = segment.sequenceNumber
      sendWindowUpdateAcknowledgment = acknowledgment
      acknowledgmentNeeded = true
      if finQueued { state = .finWait1 }
    } else {
      // Simultaneous open: answer with SYN-ACK, our SYN again (§3.10.7.3 "fourth").
      state = .synReceived
      sendNext = initialSendSequence
      sendWindow = Int(segment.window)
      maximumSendWindow = sendWindow
      sendWindowUpdateSequence = segment.sequenceNumber
    }
  }

  /// The options our SYN carried (for negotiation on the SYN-ACK).
  var offeredOptions: TCPOptions {
    var options = TCPOptions()
    options.maximumSegmentSize = UInt16(min(receiveMaximumSegmentSize, 65535))
    if configuration.windowScaling { options.windowScale = receiveWindowShift }
    if configuration.selectiveAcknowledgments { options.sackPermitted = true }
    if configuration.timestamps { options.timestamp = TCPTimestampOption(value: 0, echoReply: 0) }
    return options
  }

  /// The sequence number our FIN has (or will have), once the application queued it.
  var finSequenceNumber: SequenceNumber? {
    finQueued ? sendBufferStart + sendBuffer.count : nil
  }

  /// The ACK field in a synchronized state (§3.10.7.4 "fifth"). Returns false when the
  /// segment must be dropped.
  private func processAcknowledgment(_ segment: borrowing TCPSegment, now: Instant) -> Bool {
    let acknowledgment = segment.acknowledgmentNumber
    // RFC 5961 §5.2: an ACK for data not yet sent is answered and dropped; one far below
    // SND.UNA gets a challenge ACK.
    if sendMaximum < acknowledgment {
      acknowledgmentNeeded = true
      return false
    }
    if acknowledgment < sendUnacknowledged - max(maximumSendWindow, 65535) {
      sendChallengeAcknowledgment(now: now)
      return false
    }
    // The window of a SYN (a simultaneous open's SYN-ACK) is never scaled (RFC 7323 §2.2).
    let window = Int(segment.window) << Int(segment.flags.contains(.syn) ? 0 : sendWindowShift)
    let isDuplicate =
      acknowledgment == sendUnacknowledged && segment.payload.isEmpty
      && !segment.flags.contains(.fin)
      && sendMaximum != sendUnacknowledged && window == sendWindow
    var delivered = false
    if sendUnacknowledged < acknowledgment {
      acknowledgeNewData(up: acknowledgment, now: now)
      delivered = true
    }
    let blocks = segment.options.sackBlocks
    if sackEnabled && !blocks.isEmpty {
      // A D-SACK (RFC 2883 §4): the first block lies below the cumulative ACK or inside the
      // second block; it reports a duplicate, so a retransmission was spurious.
      let first = blocks[0]
      if first.right <= acknowledgment
        || (blocks.count > 1 && blocks[1].left <= first.left && first.right <= blocks[1].right)
      {
        retransmissionQueue.spuriousRetransmissionReported()
      }
      let before = retransmissionQueue.sackedBytes
      retransmissionQueue.sack(blocks, now: now)
      if retransmissionQueue.sackedBytes != before { delivered = true }
    }
    if isDuplicate { duplicateAcknowledgment(now: now) }
    if delivered {
      probeOutstanding = false
      detectLosses(now: now)
    }
    // Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2).
    let sequence = segment.sequenceNumber
    if sendWindowUpdateSequence < sequence
      || (sendWindowUpdateSequence == sequence && sendWindowUpdateAcknowledgment <= acknowledgment)
    {
      let opened = window > sendWindow
      sendWindow = window
      maximumSendWindow = max(maximumSendWindow, window)
      sendWindowUpdateSequence = sequence
      sendWindowUpdateAcknowledgment = acknowledgment
      if window > 0 {
        persistDeadline = nil
        persistBackoff = 0
      }
      if opened { events.insert(.writable) }
    }
    return true
  }

  /// SND.UNA moves forward: data (and maybe our SYN or FIN) was acknowledged.
  private func acknowledgeNewData(up acknowledgment: SequenceNumber, now: Instant) {
    takeRoundTripSample(acknowledgment: acknowledgment, now: now)
    let acknowledgedSequence = acknowledgment - sendUnacknowledged
    // Bytes of the send buffer covered (the SYN and FIN occupy sequence space, not buffer).
    let bufferEnd = sendBufferStart + sendBuffer.count
    let covered = acknowledgment < bufferEnd ? acknowledgment : bufferEnd
    let dataAcknowledged = max(covered - sendBufferStart, 0)
    if dataAcknowledged > 0 {
      sendBuffer.removeFirst(dataAcknowledged)
      sendBufferStart += dataAcknowledged
      events.insert(.writable)
    }
    sendUnacknowledged = acknowledgment
    stalledSince = nil  // progress: the user timeout starts again at the next output
    // SND.UNA ≤ SND.NXT always: a SYN that was to go again (SND.NXT back at the ISS) may be
    // acknowledged before the next output sends it.
    if sendNext < acknowledgment { sendNext = acknowledgment }
    retransmissionQueue.acknowledge(upTo: acknowledgment, now: now)
    probeDeadline = nil  // re-armed from now at the next output (RFC 8985 §7.2)
    retransmissionCount = 0
    retransmissionTimeout.acknowledged()
    let mss = effectiveSendSegmentSize
    if inRecovery {
      if recoveryPoint <= acknowledgment {
        // Full acknowledgment: the episode is over (RFC 6582 §3.2 step 3).
        inRecovery = false
        windowInflation = 0
        duplicateAcknowledgments = 0
        congestion.recoveryEnded(maximumSegmentSize: mss, now: now)
        retransmissionQueue.recoveryEnded()
      } else if !sackEnabled {
        // Partial acknowledgment: the next segment is lost too (RFC 6582 §3.2 step 5).
        retransmissionQueue.markFirstLost()
        retransmissionOwed = true
        windowInflation = max(windowInflation - acknowledgedSequence, 0) + mss
      }
    } else {
      duplicateAcknowledgments = 0
      windowInflation = 0
      // Data bytes only: the SYN and FIN are no data (RFC 5681 §3.1), and the initial window
      // is the window once the handshake is complete.
      congestion.acknowledged(
        bytes: dataAcknowledged, maximumSegmentSize: mss,
        rtt: retransmissionTimeout.smoothedRoundTripTime, now: now)
    }
    // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart it.
    if sendUnacknowledged == sendMaximum {
      retransmissionDeadline = nil
      probeDeadline = nil
      reorderDeadline = nil
    } else {
      retransmissionDeadline = now + retransmissionTimeout.timeout
    }
  }

  /// A duplicate acknowledgment (RFC 5681 §2). Without SACK: limited transmit for the first
  /// two (RFC 3042), fast retransmit of the first segment at the third, window inflation
  /// during recovery (RFC 6582). With SACK, the SACK blocks it carries do the work.
  private func duplicateAcknowledgment(now: Instant) {
    duplicateAcknowledgments += 1
    guard !sackEnabled else { return }
    let mss = effectiveSendSegmentSize
    if inRecovery {
      windowInflation += mss
      return
    }
    if duplicateAcknowledgments < 3 {
      windowInflation = duplicateAcknowledgments * mss
      return
    }
    retransmissionQueue.markFirstLost()
    enterRecovery(now: now)
    windowInflation = 3 * mss
  }

  /// Runs RACK and RFC 6675 loss detection; newly lost segments start a recovery episode
  /// (unless one is under way), and a segment that may yet arrive reordered arms RACK's
  /// reordering timer.
  func detectLosses(now: Instant) {
    guard !retransmissionQueue.isEmpty else {
      reorderDeadline = nil
      return
    }
    let (newlyLost, deadline) = retransmissionQueue.detectLosses(
      now: now,
      reorderingWindow: retransmissionQueue.reorderingWindow(
        smoothed: retransmissionTimeout.smoothedRoundTripTime),
      maximumSegmentSize: effectiveSendSegmentSize, useSACK: sackEnabled)
    reorderDeadline = deadline
    if newlyLost { enterRecovery(now: now) }
  }

  /// Fast retransmit and the start of fast recovery (RFC 5681 §3.2, RFC 6582 §3.2 step 2,
  /// RFC 6675 §5 step 4): the congestion window is cut once per episode; an episode starts
  /// only after the previous one (or a timeout) is behind SND.UNA.
  private func enterRecovery(now: Instant) {
    guard !inRecovery, recoveryPoint <= sendUnacknowledged || recoveryPoint == initialSendSequence
    else { return }
    inRecovery = true
    recoveryPoint = sendMaximum
    let mss = effectiveSendSegmentSize
    congestion.lossDetected(
      flightSize: sendMaximum - sendUnacknowledged, maximumSegmentSize: mss, now: now)
    retransmissionOwed = true
    // No tail loss probe during recovery (RFC 8985 §7.2): one armed before would resend the
    // last segment, SACKed or not.
    probeDeadline = nil
    shared.counters.fastRetransmits += 1
  }

  /// An RTT sample from the timed segment, if this acknowledgment covers it (Karn's rule:
  /// the probe is dropped whenever anything is retransmitted).
  func takeRoundTripSample(acknowledgment: SequenceNumber, now: Instant) {
    guard let probe = roundTripProbe, probe.sequence < acknowledgment else { return }
    retransmissionTimeout.addSample(now - probe.sentAt)
    roundTripProbe = nil
  }

  /// In-window data (§3.10.7.4 "seventh"): in order it extends RCV.NXT, out of order it is
  /// kept and acknowledged at once with SACK blocks.
  private func receiveText(_ payload: Span<UInt8>, at sequence: SequenceNumber, now: Instant) {
    var data = payload
    var offset = sequence - receiveNext
    if offset < 0 {
      // Partly old: keep only what is new.
      guard -offset < data.count else {
        if sackEnabled { duplicateReport = SACKBlock(left: sequence, right: sequence + data.count) }
        acknowledgmentNeeded = true
        return
      }
      data = data.extracting(droppingFirst: -offset)
      offset = 0
    } else if offset > 0 && sackEnabled && receiveBuffer.holds(offset..<(offset + data.count)) {
      duplicateReport = SACKBlock(left: sequence, right: sequence + data.count)
    }
    let hadGap = receiveBuffer.hasOutOfOrderData
    // Under memory pressure out-of-order data is the first to go: the sender still has it.
    // Everything up to the edge advertised is taken: rounding the window to its scale can put
    // the edge a little past the buffer's free space (RFC 7323 §2.3), and the peer may fill it.
    let outcome = receiveBuffer.write(
      data, at: offset, window: advertisedWindowEdge - receiveNext,
      acceptOutOfOrder: !shared.budget.isUnderPressure)
    let advance = outcome.advance
    if outcome.droppedForPieceLimit {
      shared.counters.droppedOutOfOrderLimit += 1
      acknowledgmentNeeded = true
      return
    }
    if outcome.droppedForMemory > 0 {
      if offset > 0 {
        shared.counters.droppedOutOfOrderPressure += 1
      } else {
        shared.counters.droppedMemoryLimit += 1
      }
      acknowledgmentNeeded = true
      if advance == 0 { return }
    }
    if offset > 0 {
      shared.counters.outOfOrderSegments += 1
      recentOutOfOrderSequences.insert(receiveNext + offset, at: 0)
      if recentOutOfOrderSequences.count > TCPConnection.sackRecencyDepth {
        recentOutOfOrderSequences.removeLast()
      }
      acknowledgmentNeeded = true  // a duplicate ACK with SACK blocks (RFC 5681 §4.2)
      return
    }
    receiveNext += advance
    bytesReceived += UInt64(advance)
    if advance > 0 { events.insert(.readable) }
    measureReceiveRoundTrip(now: now)
    if advance < data.count || hadGap {
      acknowledgmentNeeded = true  // clipped to the window, or filled a gap
    } else {
      segmentsSinceAcknowledgment += max(
        1, (data.count + receiveMaximumSegmentSize - 1) / receiveMaximumSegmentSize)
      if segmentsSinceAcknowledgment >= 2 {
        acknowledgmentNeeded = true
      } else if delayedAcknowledgmentDeadline == nil {
        delayedAcknowledgmentDeadline = now + configuration.delayedAcknowledgmentTimeout
      }
    }
    if let pending = pendingFinSequence, pending == receiveNext {
      pendingFinSequence = nil
      receiveFin(now: now)
    }
  }

  /// Without timestamps, a receiver's round-trip sample is the time one window's data takes to
  /// arrive (Linux `tcp_rcv_rtt_measure`): a measurement starts at RCV.NXT and ends when
  /// RCV.NXT passes the window's edge as it was then.
  private func measureReceiveRoundTrip(now: Instant) {
    guard !timestampsEnabled else { return }
    if let probe = receiveRoundTripProbe {
      guard probe.sequence <= receiveNext else { return }
      addReceiveRoundTripSample(now - probe.start)
    }
    receiveRoundTripProbe = (receiveNext + max(receiveBuffer.window, 1), now)
  }

  /// The peer's FIN, in order (§3.10.7.4 "eighth").
  private func receiveFin(now: Instant) {
    guard !finReceived else {
      acknowledgmentNeeded = true
      return
    }
    finReceived = true
    receiveNext += 1
    acknowledgmentNeeded = true
    events.insert(.readable)
    switch state {
    case .synReceived, .established:
      state = .closeWait
    case .finWait1:
      if let finSequence = finSequenceNumber, finSequence < sendUnacknowledged {
        enterTimeWait()
      } else {
        state = .closing
      }
    case .finWait2:
      enterTimeWait()
    default:
      break
    }
  }

  /// Enters TIME-WAIT; the layer moves the connection into its TIME-WAIT table. Sends
  /// nothing itself: the peer's FIN, when it is what brought us here, has already asked for
  /// its ACK, and from CLOSING the ACK of our FIN needs no answer (RFC 9293 §3.10.7.4).
  func enterTimeWait() {
    state = .timeWait
    retransmissionDeadline = nil
    persistDeadline = nil
    keepaliveDeadline = nil
    finWait2Deadline = nil
    events.insert(.closed)
    events.insert(.readable)
  }

  /// RFC 5961 §7: a challenge ACK, at most one per half second on this connection (Linux
  /// `tcp_invalid_ratelimit`, shared with the duplicate ACKs that answer out-of-window
  /// segments) and within the host-wide, randomised allowance.
  func sendChallengeAcknowledgment(now: Instant) {
    if let last = lastOutOfWindowAcknowledgment, now - last < TCPConnection.invalidSegmentRateLimit
    {
      shared.counters.challengeAcksLimited += 1
      return
    }
    guard shared.challengeAcknowledgments.allow(now: now) else {
      shared.counters.challengeAcksLimited += 1
      return
    }
    lastOutOfWindowAcknowledgment = now
    shared.counters.challengeAcks += 1
    acknowledgmentNeeded = true
  }

  /// The least time between two answers (challenge or duplicate ACKs) to unacceptable
  /// segments on one connection (Linux `tcp_invalid_ratelimit`, 500 ms).
  static let invalidSegmentRateLimit = Interval.milliseconds(500)

  /// An unacceptable ACK in SYN-SENT or SYN-RECEIVED: answer `<SEQ=SEG.ACK><CTL=RST>`.
  private func resetFor(acknowledgment: SequenceNumber) {
    resetToSend = acknowledgment
  }
}
