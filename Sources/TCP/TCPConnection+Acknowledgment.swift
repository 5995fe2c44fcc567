import NetCore

/// The ACK field of a segment in a synchronized state (RFC 9293 §3.10.7.4 "fifth, check the
/// ACK field"), and what it drives on the send side: SND.UNA and the send window (SND.WL1 /
/// SND.WL2), round-trip samples (RFC 6298, Karn's rule), duplicate ACKs and NewReno fast
/// recovery (RFC 5681 §3.2, RFC 6582), SACK and D-SACK (RFC 2018, RFC 2883), RACK and
/// RFC 6675 loss detection (RFC 8985), and the ACK checks of RFC 5961 §5.2.
extension TCPConnection {
  /// The ACK field in a synchronized state (§3.10.7.4 "fifth"). Returns false when the
  /// segment must be dropped.
  func processAcknowledgment(_ segment: borrowing TCPSegment, now: Instant) -> Bool {
    let acknowledgment = segment.acknowledgmentNumber
    // RFC 5961 §5.2: an ACK for data not yet sent is answered and dropped; one far below
    // SND.UNA gets a challenge ACK.
    if sender.maximum < acknowledgment {
      receiver.acknowledgmentNeeded = true
      return false
    }
    if acknowledgment < sender.unacknowledged - max(sender.maximumWindow, 65535) {
      sendChallengeAcknowledgment(now: now)
      return false
    }
    // The window of a SYN (a simultaneous open's SYN-ACK) is never scaled (RFC 7323 §2.2).
    let window = Int(segment.window) << Int(segment.flags.contains(.syn) ? 0 : sendWindowShift)
    let isDuplicate =
      acknowledgment == sender.unacknowledged && segment.payload.isEmpty
      && !segment.flags.contains(.fin)
      && sender.maximum != sender.unacknowledged && window == sender.window
    var delivered = false
    if sender.unacknowledged < acknowledgment {
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
        recovery.retransmissionQueue.spuriousRetransmissionReported()
      }
      let before = recovery.retransmissionQueue.sackedBytes
      recovery.retransmissionQueue.sack(blocks, now: now)
      if recovery.retransmissionQueue.sackedBytes != before { delivered = true }
    }
    if isDuplicate { duplicateAcknowledgment(now: now) }
    if delivered {
      recovery.probeOutstanding = false
      detectLosses(now: now)
    }
    // Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2).
    let opened = window > sender.window
    if sender.takeWindow(
      window, sequence: segment.sequenceNumber, acknowledgment: acknowledgment)
    {
      if window > 0 {
        persistDeadline = nil
        persistBackoff = 0
      }
      if opened { events.insert(.writable) }
    }
    return true
  }

  /// SND.UNA moves forward: data (and maybe our SYN or FIN) was acknowledged.
  func acknowledgeNewData(up acknowledgment: SequenceNumber, now: Instant) {
    takeRoundTripSample(acknowledgment: acknowledgment, now: now)
    let acknowledgedSequence = acknowledgment - sender.unacknowledged
    let dataAcknowledged = sender.acknowledge(upTo: acknowledgment)
    if dataAcknowledged > 0 { events.insert(.writable) }
    stalledSince = nil  // progress: the user timeout starts again at the next output
    recovery.retransmissionQueue.acknowledge(upTo: acknowledgment, now: now)
    recovery.probeDeadline = nil  // re-armed from now at the next output (RFC 8985 §7.2)
    retransmissionCount = 0
    retransmissionTimeout.acknowledged()
    let mss = effectiveSendSegmentSize
    if recovery.inRecovery {
      if recovery.recoveryPoint <= acknowledgment {
        // Full acknowledgment: the episode is over (RFC 6582 §3.2 step 3).
        recovery.endEpisode()
        congestion.recoveryEnded(maximumSegmentSize: mss, now: now)
      } else if !sackEnabled {
        // Partial acknowledgment: the next segment is lost too (RFC 6582 §3.2 step 5).
        recovery.partialAcknowledgment(acknowledged: acknowledgedSequence, maximumSegmentSize: mss)
      }
    } else {
      recovery.progressed()
      // Data bytes only: the SYN and FIN are no data (RFC 5681 §3.1), and the initial window
      // is the window once the handshake is complete.
      congestion.acknowledged(
        bytes: dataAcknowledged, maximumSegmentSize: mss,
        rtt: retransmissionTimeout.smoothedRoundTripTime, now: now)
    }
    // RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart it.
    if sender.unacknowledged == sender.maximum {
      retransmissionDeadline = nil
      recovery.stopTimers()
    } else {
      retransmissionDeadline = now + retransmissionTimeout.timeout
    }
  }

  /// A duplicate acknowledgment (RFC 5681 §2), counted by `TCPLossRecovery`; at the third
  /// (without SACK), the fast retransmit, and the window inflated by the three segments that
  /// left the network (RFC 6582 §3.2 step 2).
  func duplicateAcknowledgment(now: Instant) {
    let mss = effectiveSendSegmentSize
    guard recovery.duplicateAcknowledgment(useSACK: sackEnabled, maximumSegmentSize: mss)
    else { return }
    enterRecovery(now: now)
    recovery.windowInflation = 3 * mss
  }

  /// Runs RACK and RFC 6675 loss detection; newly lost segments start a recovery episode
  /// (unless one is under way), and a segment that may yet arrive reordered arms RACK's
  /// reordering timer.
  func detectLosses(now: Instant) {
    guard !recovery.retransmissionQueue.isEmpty else {
      recovery.reorderDeadline = nil
      return
    }
    let (newlyLost, deadline) = recovery.retransmissionQueue.detectLosses(
      now: now,
      reorderingWindow: recovery.retransmissionQueue.reorderingWindow(
        smoothed: retransmissionTimeout.smoothedRoundTripTime),
      maximumSegmentSize: effectiveSendSegmentSize, useSACK: sackEnabled)
    recovery.reorderDeadline = deadline
    if newlyLost { enterRecovery(now: now) }
  }

  /// Fast retransmit and the start of fast recovery (RFC 5681 §3.2, RFC 6582 §3.2 step 2,
  /// RFC 6675 §5 step 4): the congestion window is cut once per episode; an episode starts
  /// only after the previous one (or a timeout) is behind SND.UNA.
  func enterRecovery(now: Instant) {
    guard
      recovery.mayStartEpisode(
        sendUnacknowledged: sender.unacknowledged, initialSendSequence: sender.initialSequence)
    else { return }
    recovery.startEpisode(sendMaximum: sender.maximum)
    congestion.lossDetected(
      flightSize: sender.flightSize,
      maximumSegmentSize: effectiveSendSegmentSize,
      now: now)
    shared.counters.fastRetransmits += 1
  }

  /// An RTT sample from the timed segment, if this acknowledgment covers it (Karn's rule:
  /// the probe is dropped whenever anything is retransmitted).
  func takeRoundTripSample(acknowledgment: SequenceNumber, now: Instant) {
    guard let probe = roundTripProbe, probe.sequence < acknowledgment else { return }
    retransmissionTimeout.addSample(now - probe.sentAt)
    roundTripProbe = nil
  }

}
