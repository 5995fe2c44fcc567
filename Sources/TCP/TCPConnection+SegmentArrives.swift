import NetCore

/// SEGMENT ARRIVES for a connection (RFC 9293 §3.10.7; LISTEN and CLOSED belong to the
/// layer). In a synchronized state, §3.10.7.4's steps, one function each, in the RFC's order:
/// check the sequence number (with RFC 7323 §5.3's PAWS), the RST bit (RFC 5961 §3.2), the
/// SYN bit (RFC 5961 §4.2), the ACK field, the segment text, the FIN bit. SYN-SENT
/// (§3.10.7.3) is `TCPConnection+SynSent.swift`; the ACK field's work on the send side is
/// `TCPConnection+Acknowledgment.swift`, the text's and FIN's on the receive side
/// `TCPConnection+ReceiveText.swift`.
extension TCPConnection {
  /// Processes one segment of this connection's 4-tuple.
  func segmentArrives(_ segment: borrowing TCPSegment, now: Instant) {
    lastReceived = now
    keepaliveProbesSent = 0
    if state == .synSent {
      synSentSegmentArrives(segment, now: now)
      return
    }
    let simultaneousOpenSynAck = isSimultaneousOpenSynAck(segment)
    guard
      let textAllowed = firstCheckSequenceNumber(
        segment, simultaneousOpenSynAck: simultaneousOpenSynAck, now: now),
      secondCheckReset(segment, now: now),
      // Third, security: not implemented (RFC 9293 §3.10.7.4 allows it; Linux does not check
      // it either).
      fourthCheckSynchronize(segment, simultaneousOpenSynAck: simultaneousOpenSynAck, now: now),
      fifthCheckAcknowledgment(segment, now: now),
      // Sixth, the URG bit: ignored. The urgent pointer is not supported (RFC 6093 §6 asks
      // new applications not to use it); the data is delivered in line like any other.
      seventhProcessSegmentText(segment, textAllowed: textAllowed, now: now)
    else { return }
    eighthCheckFin(segment, now: now)
  }

  /// Simultaneous open (RFC 9293 Figure 8, line 6): the peer's SYN-ACK repeats the SYN we
  /// have acknowledged, so it fails the sequence check, but its ACK of our SYN establishes
  /// the connection. Answering it with our SYN-ACK again would make two such ends trade
  /// SYN-ACKs for ever (Linux lets it pass the same way, in tcp_validate_incoming).
  private func isSimultaneousOpenSynAck(_ segment: borrowing TCPSegment) -> Bool {
    let flags = segment.flags
    return state == .synReceived && !isPassive && flags.contains([.syn, .ack])
      && !flags.contains(.rst) && segment.sequenceNumber == receiver.initialSequence
      && segment.sequenceLength == 1
      && segment.acknowledgmentNumber == sender.initialSequence + 1
  }

  /// First, check the sequence number (§3.10.7.4), and PAWS (RFC 7323 §5.3). With a zero
  /// window, a segment at RCV.NXT still has its ACK and RST looked at, not its text. Returns
  /// nil when the segment is dropped (answered with an ACK if it asks for one), else whether
  /// its text is in the window.
  private func firstCheckSequenceNumber(
    _ segment: borrowing TCPSegment, simultaneousOpenSynAck: Bool, now: Instant
  ) -> Bool? {
    let flags = segment.flags
    let sequence = segment.sequenceNumber
    let length = segment.sequenceLength
    let textAllowed = receiver.isAcceptable(sequence: sequence, length: length)
    if !textAllowed && !simultaneousOpenSynAck
      && !(sequence == receiver.next && receiver.advertisedWindowEdge - receiver.next <= 0)
    {
      shared.counters.droppedOutOfWindow += 1
      if state == .synReceived && flags.contains(.syn) && sequence == receiver.initialSequence {
        sender.next = sender.initialSequence  // a retransmitted SYN: send the SYN-ACK again
      } else if !flags.contains(.rst) {
        answerUnacceptable(segment, now: now)
      }
      return nil
    }
    if timestampsEnabled, !flags.contains(.rst), let timestamp = segment.options.timestamp {
      let older = Int32(bitPattern: timestamp.value &- timestampRecent) < 0
      let recentIsStale = now - timestampRecentTime > .seconds(24 * 24 * 3600)
      // A bare ACK carries no data that a wrapped sequence number could corrupt; reordered
      // ACKs are common and harmless, so PAWS lets them through (Linux: tcp_disordered_ack).
      let bareAcknowledgment = length == 0 && flags == .ack
      if older && !recentIsStale && !bareAcknowledgment {
        shared.counters.droppedPAWS += 1
        receiver.acknowledgmentNeeded = true
        return nil
      }
    }
    return textAllowed
  }

  /// An unacceptable segment (not a RST) is answered with a duplicate ACK; for bare ACKs at
  /// most twice a second, so that two confused ends cannot ping-pong ACKs forever (Linux's
  /// tcp_invalid_ratelimit). Data wholly below RCV.NXT that arrived again (most often a
  /// spurious retransmission) is reported as a D-SACK (RFC 2883 §4.1.1).
  private func answerUnacceptable(_ segment: borrowing TCPSegment, now: Instant) {
    let sequence = segment.sequenceNumber
    let payloadLength = segment.payload.count
    if sackEnabled && payloadLength > 0 && sequence + payloadLength <= receiver.next {
      receiver.duplicateReport = SACKBlock(left: sequence, right: sequence + payloadLength)
    }
    if segment.sequenceLength > 0
      || lastOutOfWindowAcknowledgment.map({ now - $0 >= TCPConnection.invalidSegmentRateLimit })
        ?? true
    {
      lastOutOfWindowAcknowledgment = now
      receiver.acknowledgmentNeeded = true
    }
  }

  /// Second, check the RST bit (RFC 5961 §3.2: exactly RCV.NXT resets, anything else in the
  /// window gets a challenge ACK). Returns whether processing goes on (no RST).
  private func secondCheckReset(_ segment: borrowing TCPSegment, now: Instant) -> Bool {
    guard segment.flags.contains(.rst) else { return true }
    shared.counters.resetsReceived += 1
    guard segment.sequenceNumber == receiver.next else {
      sendChallengeAcknowledgment(now: now)
      return false
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
    return false
  }

  /// Fourth, check the SYN bit: in a synchronized state a SYN gets a challenge ACK (RFC 5961
  /// §4.2). Returns whether processing goes on (no SYN, or a simultaneous open's SYN-ACK).
  private func fourthCheckSynchronize(
    _ segment: borrowing TCPSegment, simultaneousOpenSynAck: Bool, now: Instant
  ) -> Bool {
    guard segment.flags.contains(.syn) && !simultaneousOpenSynAck else { return true }
    if state == .synReceived && !isPassive {
      // Simultaneous open: the peer's SYN again; our SYN-ACK answers it.
      sender.next = sender.initialSequence
      return false
    }
    sendChallengeAcknowledgment(now: now)
    return false
  }

  /// Fifth, check the ACK field: a segment without ACK is dropped; in SYN-RECEIVED an
  /// acceptable ACK establishes the connection; then SND.UNA and the send window move
  /// (`processAcknowledgment`), TS.Recent is updated, and an acknowledged FIN moves the state
  /// on. Returns whether processing goes on.
  private func fifthCheckAcknowledgment(_ segment: borrowing TCPSegment, now: Instant) -> Bool {
    guard segment.flags.contains(.ack) else { return false }
    if state == .synReceived {
      guard establishOnAcknowledgment(segment) else { return false }
    }
    guard processAcknowledgment(segment, now: now) else { return false }
    recordTimestamps(segment, now: now)
    return ourFinAcknowledged(now: now)
  }

  /// SYN-RECEIVED: an ACK of our SYN establishes the connection and takes the peer's window;
  /// an unacceptable one is answered with a RST. Returns whether it was acceptable.
  private func establishOnAcknowledgment(_ segment: borrowing TCPSegment) -> Bool {
    let acknowledgment = segment.acknowledgmentNumber
    guard sender.unacknowledged < acknowledgment && acknowledgment <= sender.maximum else {
      resetFor(acknowledgment: acknowledgment)
      return false
    }
    state = .established
    events.insert(.established)
    shared.counters.connectionsEstablished += 1
    sender.window = Int(segment.window) << Int(segment.flags.contains(.syn) ? 0 : sendWindowShift)
    sender.maximumWindow = max(sender.maximumWindow, sender.window)
    sender.windowUpdateSequence = segment.sequenceNumber
    sender.windowUpdateAcknowledgment = acknowledgment
    if sender.finQueued { state = .finWait1 }
    return true
  }

  /// The timestamps of an acceptable segment: a receiver's round-trip sample from data that
  /// echoes one of ours (RFC 7323 §4.3; Linux `tcp_rcv_rtt_measure_ts`), for receive-buffer
  /// moderation; and TS.Recent, which follows the segment that covers Last.ACK.sent
  /// (RFC 7323 §4.3).
  private func recordTimestamps(_ segment: borrowing TCPSegment, now: Instant) {
    guard timestampsEnabled, let timestamp = segment.options.timestamp else { return }
    if !segment.payload.isEmpty, timestamp.echoReply != 0 {
      let elapsed = Int32(bitPattern: timestampClock(now) &- timestamp.echoReply)
      if elapsed >= 0 {
        addReceiveRoundTripSample(.milliseconds(Int64(max(elapsed, 1))))
      }
    }
    if segment.sequenceNumber <= receiver.lastAcknowledgmentSent,
      Int32(bitPattern: timestamp.value &- timestampRecent) >= 0
    {
      timestampRecent = timestamp.value
      timestampRecentTime = now
    }
  }

  /// Our FIN acknowledged: FIN-WAIT-1 moves to FIN-WAIT-2, CLOSING to TIME-WAIT, LAST-ACK to
  /// CLOSED (§3.10.7.4 "fifth", per state). Returns whether processing goes on.
  private func ourFinAcknowledged(now: Instant) -> Bool {
    guard sender.finQueued, let finSequence = sender.finSequenceNumber,
      finSequence < sender.unacknowledged
    else { return true }
    switch state {
    case .finWait1:
      state = .finWait2
      if applicationClosed { finWait2Deadline = now + configuration.finWait2Timeout }
    case .closing:
      enterTimeWait()
      return false
    case .lastAck:
      enterClosed(error: nil)
      return false
    default:
      break
    }
    return true
  }

  /// Seventh, process the segment text: in-window data goes to the receive buffer
  /// (`receiveText`); data outside the window or in a state that takes none is answered with
  /// an ACK; data for a connection the application closed resets it (RFC 1122 §4.2.2.13).
  /// Returns whether processing goes on.
  private func seventhProcessSegmentText(
    _ segment: borrowing TCPSegment, textAllowed: Bool, now: Instant
  ) -> Bool {
    let payload = segment.payload
    guard !payload.isEmpty else { return true }
    guard state.canReceiveData, textAllowed else {
      receiver.acknowledgmentNeeded = true
      return false
    }
    if applicationClosed {
      abort()
      return false
    }
    receiveText(payload, at: segment.sequenceNumber, now: now)
    return true
  }

  /// Eighth, check the FIN bit: a FIN at RCV.NXT is taken (`receiveFin`), one beyond waits for
  /// the gap to fill, and a retransmitted one is acknowledged again.
  private func eighthCheckFin(_ segment: borrowing TCPSegment, now: Instant) {
    guard segment.flags.contains(.fin) else { return }
    let finSequence = segment.sequenceNumber + segment.payload.count
    if finSequence == receiver.next {
      receiveFin(now: now)
    } else if receiver.next < finSequence {
      receiver.pendingFinSequence = finSequence
      receiver.acknowledgmentNeeded = true
    } else if state == .timeWait || receiver.finReceived {
      receiver.acknowledgmentNeeded = true  // a retransmitted FIN
    }
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
    receiver.acknowledgmentNeeded = true
  }

  /// The least time between two answers (challenge or duplicate ACKs) to unacceptable
  /// segments on one connection (Linux `tcp_invalid_ratelimit`, 500 ms).
  static let invalidSegmentRateLimit = Interval.milliseconds(500)

  /// An unacceptable ACK in SYN-SENT or SYN-RECEIVED: answer `<SEQ=SEG.ACK><CTL=RST>`.
  func resetFor(acknowledgment: SequenceNumber) {
    resetToSend = acknowledgment
  }
}
