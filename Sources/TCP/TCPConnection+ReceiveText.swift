import NetCore

/// The receive side of RFC 9293 §3.10.7.4 "seventh, process the segment text" and "eighth,
/// check the FIN bit": in-order data extends RCV.NXT, out-of-order data is kept for SACK
/// (RFC 2018) and D-SACK (RFC 2883) reports, ACKs are delayed for at most every second
/// full-sized segment (RFC 9293 §3.8.6.3, RFC 5681 §4.2), and the peer's FIN moves the state on.
extension TCPConnection {
  /// In-window data (§3.10.7.4 "seventh"): in order it extends RCV.NXT, out of order it is
  /// kept and acknowledged at once with SACK blocks.
  func receiveText(_ payload: Span<UInt8>, at sequence: SequenceNumber, now: Instant) {
    var data = payload
    var offset = sequence - receiver.next
    if offset < 0 {
      // Partly old: keep only what is new.
      guard -offset < data.count else {
        if sackEnabled {
          receiver.duplicateReport = SACKBlock(left: sequence, right: sequence + data.count)
        }
        receiver.acknowledgmentNeeded = true
        return
      }
      data = data.extracting(droppingFirst: -offset)
      offset = 0
    } else if offset > 0 && sackEnabled && receiver.buffer.holds(offset..<(offset + data.count)) {
      receiver.duplicateReport = SACKBlock(left: sequence, right: sequence + data.count)
    }
    let hadGap = receiver.buffer.hasOutOfOrderData
    // Under memory pressure out-of-order data is the first to go: the sender still has it.
    // Everything up to the edge advertised is taken: rounding the window to its scale can put
    // the edge a little past the buffer's free space (RFC 7323 §2.3), and the peer may fill it.
    let (copiedBefore, reorderedBefore) = (
      receiver.buffer.bytesCopiedIn, receiver.buffer.bytesReordered
    )
    let outcome = receiver.buffer.write(
      data, at: offset, window: receiver.advertisedWindowEdge - receiver.next,
      acceptOutOfOrder: !shared.budget.isUnderPressure)
    let advance = outcome.advance
    shared.counters.receiveBytesCopiedIn += UInt64(receiver.buffer.bytesCopiedIn - copiedBefore)
    shared.counters.receiveBytesReordered += UInt64(
      receiver.buffer.bytesReordered - reorderedBefore)
    if outcome.droppedForPieceLimit {
      shared.counters.droppedOutOfOrderLimit += 1
      receiver.acknowledgmentNeeded = true
      return
    }
    if outcome.droppedForMemory > 0 {
      if offset > 0 {
        shared.counters.droppedOutOfOrderPressure += 1
      } else {
        shared.counters.droppedMemoryLimit += 1
      }
      receiver.acknowledgmentNeeded = true
      if advance == 0 { return }
    }
    if offset > 0 {
      shared.counters.outOfOrderSegments += 1
      receiver.noteOutOfOrder(at: receiver.next + offset)
      receiver.acknowledgmentNeeded = true  // a duplicate ACK with SACK blocks (RFC 5681 §4.2)
      return
    }
    receiver.next += advance
    bytesReceived += UInt64(advance)
    if advance > 0 { events.insert(.readable) }
    measureReceiveRoundTrip(now: now)
    if advance < data.count || hadGap {
      receiver.acknowledgmentNeeded = true  // clipped to the window, or filled a gap
    } else {
      receiver.segmentsSinceAcknowledgment += max(
        1, (data.count + receiveMaximumSegmentSize - 1) / receiveMaximumSegmentSize)
      if receiver.segmentsSinceAcknowledgment >= 2 {
        receiver.acknowledgmentNeeded = true
      } else if delayedAcknowledgmentDeadline == nil {
        delayedAcknowledgmentDeadline = now + configuration.delayedAcknowledgmentTimeout
      }
    }
    if let pending = receiver.pendingFinSequence, pending == receiver.next {
      receiver.pendingFinSequence = nil
      receiveFin(now: now)
    }
  }

  /// Without timestamps, a receiver's round-trip sample is the time one window's data takes to
  /// arrive (Linux `tcp_rcv_rtt_measure`): a measurement starts at RCV.NXT and ends when
  /// RCV.NXT passes the window's edge as it was then.
  func measureReceiveRoundTrip(now: Instant) {
    guard !timestampsEnabled else { return }
    if let probe = receiver.roundTripProbe {
      guard probe.sequence <= receiver.next else { return }
      addReceiveRoundTripSample(now - probe.start)
    }
    receiver.roundTripProbe = (receiver.next + max(receiver.buffer.window, 1), now)
  }

  /// The peer's FIN, in order (§3.10.7.4 "eighth").
  func receiveFin(now: Instant) {
    guard !receiver.finReceived else {
      receiver.acknowledgmentNeeded = true
      return
    }
    receiver.finReceived = true
    receiver.next += 1
    receiver.acknowledgmentNeeded = true
    events.insert(.readable)
    switch state {
    case .synReceived, .established:
      state = .closeWait
    case .finWait1:
      if let finSequence = sender.finSequenceNumber, finSequence < sender.unacknowledged {
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

}
