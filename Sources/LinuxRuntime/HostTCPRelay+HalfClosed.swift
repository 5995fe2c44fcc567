import NetCore

/// The half-closed timeout of relayed flows: once one side has sent its FIN (the guest's, or
/// the host's EOF), a flow that then moves no byte either way for
/// ``HostTCPRelay/halfClosedTimeout`` is reset both ways and counted
/// (`relay_tcp.half_closed_timeouts`). Without it a guest that never closes after the host's
/// EOF, or a remote that never answers after the guest's FIN, would hold the flow, its host
/// socket and its stack connection for ever (RFC 9293 §3.6 leaves FIN-WAIT-2 unbounded).
/// "Moves no byte" counts what the relay copies, not acknowledgements of what it already
/// handed over, so a side that reads slowly after the other's FIN looks idle: the default is
/// therefore passt's two hours for a one-sided FIN with no activity (`ACT_TIMEOUT`), not
/// Linux's 60 s `tcp_fin_timeout`, which is for orphaned sockets only. Checked at most once a
/// second, so a flow goes between the timeout and a second after it.
extension HostTCPRelay {
  /// The timeout of a half-closed flow when none is given: two hours, as passt's.
  public static let defaultHalfClosedTimeout = Interval.seconds(7200)
  /// The least time between two scans of the flows for half-closed ones past their timeout.
  static let halfClosedScanInterval = Interval.seconds(1)

  /// When flow `flow` is reset if it stays idle: nil unless it is half-closed.
  func halfClosedDeadline(of flow: HostTCPRelayFlow) -> Instant? {
    guard let halfClosedTimeout, flow.state == .guestFinished || flow.state == .hostFinished
    else { return nil }
    return flow.lastActive + halfClosedTimeout
  }

  /// Flow `id` has just become half-closed: its idle time counts from now.
  func halfClosed(_ id: UInt64) {
    flows[id]?.lastActive = MonotonicClock.now()
    guard let flow = flows[id], let deadline = halfClosedDeadline(of: flow) else { return }
    armTimer(at: deadline)
  }

  /// Resets the half-closed flows idle past the timeout; arms the timer for the next.
  func expireHalfClosed(now: Instant) {
    var next: Instant? = nil
    for flow in flows.values {
      guard let deadline = halfClosedDeadline(of: flow) else { continue }
      if deadline <= now {
        counters.halfClosedTimeouts += 1
        logger.debug(
          "relay: tcp flow \(flow.id) \(flow.guest) -> \(flow.destination): \(flow.state.rawValue) and idle for \(halfClosedTimeout?.seconds ?? 0) s: reset"
        )
        finish(flow.id, resetGuest: true, resetHost: true)
      } else {
        next = Instant.earliest(next, deadline)
      }
    }
    if let next { armTimer(at: max(next, now + HostTCPRelay.halfClosedScanInterval)) }
  }

  /// Arms the relay's timer for `deadline` unless it is armed for an earlier one.
  func armTimer(at deadline: Instant) {
    if let armed = armedDeadline, armed <= deadline { return }
    armedDeadline = deadline
    timer.arm(at: deadline)
  }
}
