import LinuxRuntime

/// The TCP relay's counters for `netstackd status` and the exit report.
extension Daemon {
  /// The host side's counters, the flows open and the stack's pending opens.
  func tcpRelayCounters(_ tcp: HostTCPRelay) -> [(group: String, name: String, value: UInt64)] {
    var counters: [(group: String, name: String, value: UInt64)] = []
    for (name, value) in tcp.counters.all { counters.append(("relay_tcp", name, value)) }
    counters.append(("relay_tcp", "active", UInt64(tcp.count)))
    if let pending = tcp.pendingOpens {
      counters.append(("relay_tcp", "pending_opens", UInt64(pending.count)))
      counters.append(("relay_tcp", "pending_opens_recorded", pending.opens))
      counters.append(
        ("relay_tcp", "syn_retransmissions_absorbed", pending.retransmissionsAbsorbed))
      counters.append(("relay_tcp", "pending_open_overflows", pending.overflows))
      counters.append(("relay_tcp", "pending_opens_cancelled", pending.cancelled))
    }
    return counters
  }
}
