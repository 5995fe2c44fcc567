import NetCore

/// What the output sends again: segments the scoreboard judged lost, oldest first, within
/// the congestion budget (RFC 6675 §5 NextSeg; RFC 5681 §3.2 and RFC 6582 §3.2 for the owed
/// fast retransmit), and RACK-TLP's tail loss probe and its timer (RFC 8985 §7).
extension TCPConnection {
  /// Arms the tail loss probe (RFC 8985 §7.2) when data is outstanding and no loss is known:
  /// two smoothed RTTs, plus the worst-case delayed ACK (WCDelAckT, 200 ms as the RFC
  /// recommends: Linux delays an ACK up to that long) when one segment is out, and never
  /// after the retransmission timer: when that is sooner the probe goes at its time, instead
  /// of the timeout (see ``timersExpire(now:network:)``).
  func armProbeTimer(now: Instant) {
    guard sackEnabled, !recovery.probeOutstanding, recovery.probeDeadline == nil,
      !recovery.inRecovery,
      recovery.retransmissionQueue.lostBytes == 0, !recovery.retransmissionQueue.isEmpty,
      let smoothed = retransmissionTimeout.smoothedRoundTripTime, let rto = retransmissionDeadline
    else { return }
    var timeout = smoothed * 2
    if recovery.retransmissionQueue.count == 1 {
      timeout = timeout + TCPConnection.worstCaseDelayedAck
    }
    timeout = max(timeout, .milliseconds(10))
    recovery.probeDeadline = min(now + timeout, rto)
  }

  /// Retransmits segments judged lost, oldest first, as far as the congestion budget allows;
  /// an owed retransmission (``retransmissionOwed``: the fast retransmit, RFC 6675 §5 step
  /// 4.3, or NewReno's partial-ACK one) goes regardless, once. Returns whether anything was
  /// sent.
  func retransmitLost<Network: TransportNetwork>(now: Instant, network: inout Network) -> Bool {
    var sent = false
    while let offset = recovery.retransmissionQueue.firstLost {
      var record = recovery.retransmissionQueue[offset]
      if !recovery.retransmissionOwed && congestionBudget < record.length { break }
      let limit = segmentPayloadLimit
      if record.length - (record.fin ? 1 : 0) > limit {
        recovery.retransmissionQueue.split(offset, at: limit)
        record = recovery.retransmissionQueue[offset]
      }
      let payload = record.length - (record.fin ? 1 : 0)
      sendSegment(
        sequence: record.start, flags: record.fin ? [.ack, .fin] : .ack, payloadLength: payload,
        now: now,
        network: &network)
      recovery.retransmissionQueue.retransmitted(offset, at: now)
      recovery.retransmissionOwed = false
      sent = true
    }
    return sent
  }

  /// The tail loss probe fired (RFC 8985 §7.3): send one new segment if the window allows,
  /// else the last one again, to draw an acknowledgment that shows what is missing. Returns
  /// whether a probe was sent (not when the last segment is larger than one MSS).
  @discardableResult
  func sendProbe<Network: TransportNetwork>(now: Instant, network: inout Network) -> Bool {
    recovery.probeDeadline = nil
    guard !recovery.retransmissionQueue.isEmpty else { return false }
    recovery.probeOutstanding = true
    let mss = segmentPayloadLimit
    if sender.bufferStart + sender.buffer.count > sender.next
      && sender.unacknowledged + sender.window > sender.next,
      sendNewData(now: now, network: &network, limit: mss)
    {
      return true
    }
    let offset = recovery.retransmissionQueue.count - 1
    let record = recovery.retransmissionQueue[offset]
    let payload = record.length - (record.fin ? 1 : 0)
    guard payload <= mss else { return false }
    sendSegment(
      sequence: record.start, flags: record.fin ? [.ack, .fin] : .ack, payloadLength: payload,
      now: now,
      network: &network)
    recovery.retransmissionQueue.retransmitted(offset, at: now)
    return true
  }
}
