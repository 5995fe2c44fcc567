import NetCore

/// The connection's timers: retransmission (RFC 6298 §5), persist (zero-window probes,
/// RFC 9293 §3.8.6.1), delayed acknowledgment (RFC 1122 §4.2.3.2), keepalive (RFC 1122
/// §4.2.3.6) and the FIN-WAIT-2 timeout of an orphaned connection.
extension TCPConnection {
  /// When the connection next needs `timersExpire(now:network:)`.
  var nextDeadline: Instant? {
    var deadline = retransmissionDeadline
    deadline = Instant.earliest(deadline, persistDeadline)
    deadline = Instant.earliest(deadline, delayedAcknowledgmentDeadline)
    deadline = Instant.earliest(deadline, finWait2Deadline)
    deadline = Instant.earliest(deadline, keepaliveDue)
    deadline = Instant.earliest(deadline, recovery.nextDeadline)
    deadline = Instant.earliest(deadline, userTimeoutDue)
    return deadline
  }

  /// When the user timeout (RFC 9293 §3.8.3, RFC 5482) ends the connection, if data waits for
  /// the peer.
  var userTimeoutDue: Instant? {
    guard let since = stalledSince, let timeout = configuration.userTimeout else { return nil }
    return since + timeout
  }

  /// When the next keepalive probe is due, if keepalive is on and the connection is idle.
  var keepaliveDue: Instant? {
    guard let keepalive, state == .established || state == .closeWait else { return nil }
    let idleSince = max(lastReceived, keepaliveEnabledAt)
    return idleSince + keepalive.idle + keepalive.interval * Int64(keepaliveProbesSent)
  }

  /// Handles every timer that is due, then sends what became due.
  func timersExpire<Network: TransportNetwork>(now: Instant, network: inout Network) {
    if let due = userTimeoutDue, due <= now {
      // The peer took nothing for the user timeout: give up, with a reset as Linux does.
      sendReset(sequence: sender.maximum, acknowledging: receiver.next, now: now, network: &network)
      shared.counters.userTimeouts += 1
      shared.counters.connectionsTimedOut += 1
      enterClosed(error: .timedOut)
      return
    }
    // A tail loss probe due no later than the retransmission timer goes instead of the
    // timeout, which restarts from now (RFC 8985 §7.2–7.3: a PTO capped at the RTO's time is
    // still a probe).
    if let probe = recovery.probeDeadline, probe <= now, probe <= (retransmissionDeadline ?? probe)
    {
      if sendProbe(now: now, network: &network), retransmissionDeadline != nil {
        retransmissionDeadline = now + retransmissionTimeout.timeout
      }
    }
    if let deadline = retransmissionDeadline, deadline <= now {
      retransmissionTimerExpired(now: now)
    }
    if let deadline = recovery.reorderDeadline, deadline <= now {
      recovery.reorderDeadline = nil
      detectLosses(now: now)
    }
    if let deadline = persistDeadline, deadline <= now {
      persistDeadline = nil
      if sender.next < sender.bufferStart + sender.buffer.count && state.isSynchronized {
        if sender.window > 0 {
          // A window silly-window avoidance would not use: send what fits (the override
          // timeout, RFC 9293 §3.8.6.2.1); the retransmission timer takes over from here.
          _ = sendNewData(now: now, network: &network, override: true)
        } else {
          // Linux's window probe: an old sequence number draws an ACK with the current window.
          sendSegment(sequence: sender.unacknowledged - 1, flags: .ack, now: now, network: &network)
          shared.counters.zeroWindowProbes += 1
          persistBackoff += 1
          persistDeadline = now + persistInterval
        }
      }
    }
    if let deadline = delayedAcknowledgmentDeadline, deadline <= now {
      delayedAcknowledgmentDeadline = nil
      receiver.acknowledgmentNeeded = true
    }
    if let deadline = finWait2Deadline, deadline <= now {
      finWait2Deadline = nil
      if state == .finWait2 { enterClosed(error: nil) }
    }
    if let due = keepaliveDue, due <= now, let keepalive {
      if keepaliveProbesSent >= keepalive.probes {
        // The peer is gone: reset, as Linux does, in case it is only unreachable for now.
        sendReset(
          sequence: sender.maximum, acknowledging: receiver.next, now: now, network: &network)
        shared.counters.connectionsTimedOut += 1
        enterClosed(error: .timedOut)
      } else {
        sendSegment(sequence: sender.unacknowledged - 1, flags: .ack, now: now, network: &network)
        keepaliveProbesSent += 1
        shared.counters.keepaliveProbes += 1
      }
    }
    output(now: now, network: &network)
  }

  /// The retransmission timer expired (RFC 6298 §5.4–5.6, RFC 5681 §3.1, RFC 8985 §6.3): back
  /// off, shrink the congestion window to one segment, and judge everything outstanding lost,
  /// so that it is sent again oldest first as the window reopens. SACKed data is not sent
  /// again unless the timer expires twice running, which means the receiver may have dropped
  /// what it SACKed (RFC 2018 §8).
  private func retransmissionTimerExpired(now: Instant) {
    retransmissionDeadline = nil
    recovery.stopTimers()
    shared.counters.retransmissionTimeouts += 1
    retransmissionCount += 1
    let limit: Int
    switch state {
    case .synSent: limit = configuration.synRetries
    case .synReceived: limit = configuration.synAckRetries
    default: limit = configuration.dataRetries
    }
    if retransmissionCount > limit {
      shared.counters.connectionsTimedOut += 1
      enterClosed(error: softError ?? .timedOut)
      return
    }
    retransmissionTimeout.timerExpired()
    roundTripProbe = nil
    switch state {
    case .synSent, .synReceived:
      sender.next = sender.initialSequence
    case .closed, .listen, .timeWait:
      return
    default:
      congestion.timedOut(
        flightSize: sender.flightSize,
        maximumSegmentSize: effectiveSendSegmentSize,
        now: now)
      // RFC 6298 §5.4: "Retransmit the earliest segment that has not been acknowledged",
      // whatever the window: it also restarts the timer (§5.5), and a segment carrying a FIN
      // is one byte more than the one-segment window.
      recovery.retransmissionTimedOut(
        sendMaximum: sender.maximum, timeoutsRunning: retransmissionCount)
    }
  }
}
