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

    /// One UDP flow (guest address and port, destination) and its host socket's traffic.
    struct UDPFlow {
      var guest: String
      var destination: String
      var hostDestination: String
      var datagramsOut: UInt64
      var datagramsIn: UInt64
      var ageSeconds: Int64
      var idleSeconds: Int64
    }

    var dnsAddress: String?
    /// The IPv6 DNS address (`--dns-address6`), if DNS answers over IPv6.
    var dnsAddress6: String? = nil
    /// Whether the IPv6 DNS address failed duplicate address detection (a guest answers for
    /// it): DNS over IPv6 is off.
    var dnsAddress6Duplicate = false
    var resolvConf: String?
    var nameServers: [String]
    var denied: [String]
    var hostLoopback: String?
    /// `--host-loopback`'s IPv6 address (the host's ::1).
    var hostLoopbackIPv6: String?
    /// How ping to other hosts goes: "ICMP sockets", or why it cannot.
    var echo: String
    var echoFlowLimit = 0
    var echoIdleTimeoutSeconds: Int64 = 0
    var echoFlows: [EchoFlow] = []
    var udpFlowLimit = 0
    var udpIdleTimeoutSeconds: Int64 = 0
    var udpFlows: [UDPFlow] = []
    /// The relayed TCP connections (``TCPRelayStatus``), when the relay runs.
    var tcp: TCPRelayStatus?

    var textLines: [String] {
      var lines: [String] = []
      let addresses = [
        dnsAddress,
        dnsAddress6.map {
          dnsAddress6Duplicate ? "\($0) (a duplicate: another node has it; off)" : $0
        },
      ].compactMap { $0 }
      var line = "relay: dns " + (addresses.isEmpty ? "none" : addresses.joined(separator: " and "))
      if let resolvConf {
        line +=
          " (\(resolvConf): \(nameServers.isEmpty ? "no name servers" : nameServers.joined(separator: ", ")))"
      }
      line += "; denied \(denied.isEmpty ? "none" : denied.joined(separator: ", "))"
      let loopbacks = [hostLoopback, hostLoopbackIPv6].compactMap { $0 }
      line +=
        "; host loopback \(loopbacks.isEmpty ? "unreachable" : "at " + loopbacks.joined(separator: ", "))"
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
      lines.append(
        "relay udp: \(udpFlows.count) of \(udpFlowLimit) flows, idle timeout \(udpIdleTimeoutSeconds) s"
      )
      for flow in udpFlows {
        var via = flow.destination
        if flow.hostDestination != flow.destination { via += " (host \(flow.hostDestination))" }
        lines.append(
          "  \(flow.guest) -> \(via)  out \(flow.datagramsOut)  in \(flow.datagramsIn)  age \(flow.ageSeconds) s  idle \(flow.idleSeconds) s"
        )
      }
      lines += tcp?.textLines ?? []
      return lines
    }

    func write(to json: JSONWriter) {
      json.key("relay")
      json.object {
        if let dnsAddress { json.field("dns_address", dnsAddress) }
        if let dnsAddress6 {
          json.field("dns_address6", dnsAddress6)
          json.field("dns_address6_duplicate", dnsAddress6Duplicate)
        }
        if let resolvConf { json.field("resolv_conf", resolvConf) }
        json.key("name_servers")
        json.array(nameServers) { json.value($0) }
        json.key("denied")
        json.array(denied) { json.value($0) }
        if let hostLoopback { json.field("host_loopback", hostLoopback) }
        if let hostLoopbackIPv6 { json.field("host_loopback_ipv6", hostLoopbackIPv6) }
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
        json.field("udp_flow_limit", Int64(udpFlowLimit))
        json.field("udp_idle_timeout_seconds", udpIdleTimeoutSeconds)
        json.key("udp_flows")
        json.array(udpFlows) { flow in
          json.object {
            json.field("guest", flow.guest)
            json.field("destination", flow.destination)
            json.field("host_destination", flow.hostDestination)
            json.field("datagrams_out", Int64(flow.datagramsOut))
            json.field("datagrams_in", Int64(flow.datagramsIn))
            json.field("age_seconds", flow.ageSeconds)
            json.field("idle_seconds", flow.idleSeconds)
          }
        }
        tcp?.write(to: json)
      }
    }
  }
}
