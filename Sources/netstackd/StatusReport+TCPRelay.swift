import LinuxRuntime
import NetCore
import NetworkAPI

/// The relayed TCP connections in `netstackd status`: each flow's guest side, destination,
/// host side, bytes each way, age and state, and the relay's TCP counters.
struct TCPRelayStatus {
  /// One relayed connection.
  struct Flow {
    var guest: String
    var destination: String
    /// The host socket: its local port and where it connects.
    var host: String
    var state: String
    var bytesGuestToHost: UInt64
    var bytesHostToGuest: UInt64
    var ageSeconds: Int64
  }

  var flowLimit: Int
  var pendingOpens: Int
  var pendingOpenLimit: Int
  var counters: HostTCPRelayCounters
  var flows: [Flow]

  init(_ relay: HostTCPRelay, now: Instant) {
    flowLimit = relay.maximumFlows
    pendingOpens = relay.pendingOpens?.count ?? 0
    pendingOpenLimit = relay.pendingOpens?.limit ?? 0
    counters = relay.counters
    flows = relay.all.map { flow in
      Flow(
        guest: flow.guest, destination: flow.destination,
        host: ":\(flow.hostPort) -> \(SocketAddress(flow.hostDestination, flow.tuple.localPort))",
        state: flow.state.rawValue, bytesGuestToHost: flow.bytesGuestToHost,
        bytesHostToGuest: flow.bytesHostToGuest, ageSeconds: (now - flow.created).seconds)
    }
  }

  var textLines: [String] {
    var lines = [
      "relay tcp: \(flows.count) of \(flowLimit) flows (\(pendingOpens) of \(pendingOpenLimit) opens pending); opened \(counters.opened), refused \(counters.refused), unreachable \(counters.unreachable), reset \(counters.resetByGuest + counters.resetByHost), closed \(counters.closed); timed out: half-closed \(counters.halfClosedTimeouts), guest \(counters.guestTimeouts), host \(counters.hostTimeouts)"
    ]
    for flow in flows {
      lines.append(
        "  \(flow.guest) -> \(flow.destination)  host \(flow.host)  \(flow.state)  out \(flow.bytesGuestToHost)  in \(flow.bytesHostToGuest)  age \(flow.ageSeconds) s"
      )
    }
    return lines
  }

  func write(to json: JSONWriter) {
    json.key("tcp")
    json.object {
      json.field("flow_limit", Int64(flowLimit))
      json.field("active", Int64(flows.count))
      json.field("pending_opens", Int64(pendingOpens))
      json.field("pending_open_limit", Int64(pendingOpenLimit))
      for (name, value) in counters.all { json.field(name, Int64(value)) }
      json.key("flows")
      json.array(flows) { flow in
        json.object {
          json.field("guest", flow.guest)
          json.field("destination", flow.destination)
          json.field("host", flow.host)
          json.field("state", flow.state)
          json.field("bytes_guest_to_host", Int64(flow.bytesGuestToHost))
          json.field("bytes_host_to_guest", Int64(flow.bytesHostToGuest))
          json.field("age_seconds", flow.ageSeconds)
        }
      }
    }
  }
}

extension StatusReport.RelayStatus {
  /// Adds the TCP relay's flows and counters.
  mutating func addTCPFlows(of relay: HostTCPRelay, now: Instant) {
    tcp = TCPRelayStatus(relay, now: now)
  }
}
