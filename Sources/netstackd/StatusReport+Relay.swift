/// Relay mode in `netstackd status`: the address plan's DNS, what the guest may reach, and
/// the ICMP echo flows.
extension StatusReport {
  struct RelayStatus {
    /// One ICMP echo flow (guest, identifier, destination) and its host socket's traffic.
    struct EchoFlow {
      var guest: String
      var identifier: UInt16
      var destination: String
      var hostDestination: String
      var requests: UInt64
      var replies: UInt64
      var ageSeconds: Int64
      var idleSeconds: Int64
    }

    var dnsAddress: String?
    var resolvConf: String?
    var nameServers: [String]
    var denied: [String]
    var hostLoopback: String?
    /// How ping to other hosts goes: "ICMP sockets", or why it cannot.
    var echo: String
    var echoFlowLimit = 0
    var echoIdleTimeoutSeconds: Int64 = 0
    var echoFlows: [EchoFlow] = []

    var textLines: [String] {
      var lines: [String] = []
      var line = "relay: dns " + (dnsAddress ?? "none")
      if let resolvConf {
        line +=
          " (\(resolvConf): \(nameServers.isEmpty ? "no name servers" : nameServers.joined(separator: ", ")))"
      }
      line += "; denied \(denied.isEmpty ? "none" : denied.joined(separator: ", "))"
      line += "; host loopback \(hostLoopback.map { "at \($0)" } ?? "unreachable")"
      lines.append(line)
      lines.append(
        "relay ping: \(echo); \(echoFlows.count) of \(echoFlowLimit) flows, idle timeout \(echoIdleTimeoutSeconds) s"
      )
      for flow in echoFlows {
        var via = flow.destination
        if flow.hostDestination != flow.destination { via += " (host \(flow.hostDestination))" }
        lines.append(
          "  \(flow.guest) id \(flow.identifier) -> \(via)  requests \(flow.requests)  replies \(flow.replies)  age \(flow.ageSeconds) s  idle \(flow.idleSeconds) s"
        )
      }
      return lines
    }

    func write(to json: JSONWriter) {
      json.key("relay")
      json.object {
        if let dnsAddress { json.field("dns_address", dnsAddress) }
        if let resolvConf { json.field("resolv_conf", resolvConf) }
        json.key("name_servers")
        json.array(nameServers) { json.value($0) }
        json.key("denied")
        json.array(denied) { json.value($0) }
        if let hostLoopback { json.field("host_loopback", hostLoopback) }
        json.field("echo", echo)
        json.field("echo_flow_limit", Int64(echoFlowLimit))
        json.field("echo_idle_timeout_seconds", echoIdleTimeoutSeconds)
        json.key("echo_flows")
        json.array(echoFlows) { flow in
          json.object {
            json.field("guest", flow.guest)
            json.field("identifier", Int64(flow.identifier))
            json.field("destination", flow.destination)
            json.field("host_destination", flow.hostDestination)
            json.field("requests", Int64(flow.requests))
            json.field("replies", Int64(flow.replies))
            json.field("age_seconds", flow.ageSeconds)
            json.field("idle_seconds", flow.idleSeconds)
          }
        }
      }
    }
  }
}
