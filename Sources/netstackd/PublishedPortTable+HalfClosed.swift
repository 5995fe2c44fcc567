import LinuxRuntime
import NetCore

/// The half-closed timeout of published TCP flows, as the relay's
/// (`HostTCPRelay+HalfClosed.swift`): once the client or the guest has sent its FIN, a flow
/// that moves no byte either way for ``PublishedPortTable/halfClosedTimeout`` is reset both
/// ways and counted (`half_closed_timeouts` of its port). Without it a guest that never
/// closes after the client's FIN, or a client that never closes after the guest's, holds the
/// flow, its host socket and its stack connection for ever. Checked once a second while a
/// TCP port is published or a flow of a removed one still runs.
extension PublishedPortTable {
  /// Starts the once-a-second check, unless it runs.
  func startSweeping() {
    guard !sweeping, halfClosedTimeout != nil else { return }
    sweeping = true
    Task(executorPreference: loop) {
      while !self.ports.isEmpty || self.totalFlows > 0 {
        try? await Task.sleep(for: .seconds(1))
        self.expireHalfClosedFlows(now: MonotonicClock.now())
      }
      self.sweeping = false
    }
  }

  /// The client's FIN (`client`) or the guest's ended one direction of flow `id`: its idle
  /// time counts from now.
  func finished(_ port: Port, flow id: Int, client: Bool) {
    if client {
      port.tcpFlows[id]?.clientFinished = true
    } else {
      port.tcpFlows[id]?.guestFinished = true
    }
    port.tcpFlows[id]?.lastActive = MonotonicClock.now()
  }

  /// Resets the half-closed flows idle past the timeout. The copy still running ends with a
  /// failure, which resets both connections (``TCPSplice``): the one reading the guest when
  /// the guest's side is aborted; the one reading the client when the client's socket stops
  /// reading (its end of stream then meets the aborted guest side).
  func expireHalfClosedFlows(now: Instant) {
    guard let timeout = halfClosedTimeout else { return }
    for port in allPorts {
      for (id, flow) in port.tcpFlows
      where flow.clientFinished != flow.guestFinished && !flow.timedOut
        && now - flow.lastActive >= timeout
      {
        port.tcpFlows[id]?.timedOut = true
        port.counters.halfClosedTimeouts += 1
        logger.debug("published \(port.spec): flow of \(flow.client) half-closed and idle: reset")
        // Both at once on the loop (run inline there), before either copy wakes.
        let (incoming, outgoing, readingClient) = (flow.incoming, flow.outgoing, flow.guestFinished)
        Task(executorPreference: loop) {
          if readingClient { await incoming.stopReading() }
          await outgoing?.abort()
        }
      }
    }
  }
}
