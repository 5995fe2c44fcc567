import NetCore

/// Published ports in `netstackd status` and `netstackd publish list`: each port, its
/// counters and its flows (host client, guest side, bytes each way, age).
extension StatusReport {
  struct PublishStatus {
    struct Flow {
      var client: String
      /// The guest side: the address and port the guest sees the flow come from (TCP, and UDP
      /// with a chosen source), or the stack's UDP port (its own address).
      var guestSide: String
      var bytesToGuest: UInt64
      var bytesToClient: UInt64
      var ageSeconds: Int64
    }

    struct Port {
      var spec: String
      var transport: String
      var host: String
      var guest: String
      var ageSeconds: Int64
      var counters: [(name: String, value: UInt64)]
      var flows: [Flow]
    }

    var ports: [Port] = []
    var flowLimitPerPort = 0
    var flowLimit = 0
    var udpFlowLimit = 0
    var udpFlows = 0
    var udpIdleTimeoutSeconds: Int64 = 0
    /// The half-closed timeout of TCP flows (0: never).
    var halfClosedTimeoutSeconds: Int64 = 0

    /// The table now.
    init(_ table: PublishedPortTable, now: Instant) {
      flowLimitPerPort = PublishedPortTable.maximumFlowsPerPort
      flowLimit = PublishedPortTable.maximumFlows
      udpIdleTimeoutSeconds = table.udpIdleTimeout.seconds
      udpFlowLimit = table.udpFlows.limit
      udpFlows = table.udpFlows.taken
      halfClosedTimeoutSeconds = table.halfClosedTimeout?.seconds ?? 0
      for port in table.ports {
        var flows: [Flow] = []
        var counters: [(name: String, value: UInt64)] = []
        let spec = port.spec
        let guest = spec.guestEndpoint
        switch spec.transport {
        case .tcp:
          for flow in port.tcpFlows.sorted(by: { $0.key < $1.key }).map(\.value) {
            flows.append(
              Flow(
                client: "\(flow.client)",
                guestSide: flow.guestSide.map { "\($0) -> \(guest)" } ?? "connecting to \(guest)",
                bytesToGuest: flow.bytesToGuest, bytesToClient: flow.bytesToClient,
                ageSeconds: (now - flow.started).seconds))
          }
          let c = port.counters
          counters = [
            ("connections_accepted", c.connectionsAccepted),
            ("connections_refused_full", c.connectionsRefusedFull),
            ("connections_refused_by_guest", c.connectionsRefusedByGuest),
            ("connections_closed", c.connectionsClosed),
            ("connections_reset", c.connectionsReset),
            ("half_closed_timeouts", c.halfClosedTimeouts),
            ("client_address_shown", c.clientAddressShown),
            ("bytes_to_guest", c.bytesToGuest), ("bytes_to_client", c.bytesToClient),
          ]
        case .udp:
          if let forwarder = port.udp {
            for flow in forwarder.flowSnapshots.sorted(by: { $0.started < $1.started }) {
              flows.append(
                Flow(
                  client: "\(flow.client)",
                  guestSide:
                    "\(flow.backSource.map { "\($0)" } ?? "port \(flow.backPort)") -> \(guest)",
                  bytesToGuest: flow.bytesToTarget, bytesToClient: flow.bytesToClient,
                  ageSeconds: (now - flow.started).seconds))
            }
            let c = forwarder.counters
            counters = [
              ("flows_opened", c.flowsOpened), ("flows_expired", c.flowsExpired),
              ("flows_evicted", c.flowsEvicted), ("socket_failures", c.socketFailures),
              ("datagrams_to_guest", c.datagramsToTarget),
              ("datagrams_to_client", c.datagramsToClient), ("send_failures", c.sendFailures),
              ("dropped_foreign_source", c.droppedForeignSource),
              ("dropped_flow_limit", c.droppedFlowLimit),
              ("client_address_shown", port.counters.clientAddressShown),
              ("client_address_in_use", port.counters.clientAddressInUse),
            ]
          }
        }
        ports.append(
          Port(
            spec: "\(spec)", transport: spec.transport.rawValue,
            host: spec.hostEndpoint, guest: guest,
            ageSeconds: (now - port.added).seconds, counters: counters, flows: flows))
      }
    }

    var textLines: [String] {
      var lines = [
        "published ports: \(ports.count); at most \(flowLimitPerPort) flows a port, \(flowLimit) in all; udp flows \(udpFlows) of \(udpFlowLimit) in all; udp idle timeout \(udpIdleTimeoutSeconds) s; tcp half-closed timeout \(halfClosedTimeoutSeconds) s"
      ]
      for port in ports {
        let counters = port.counters.filter { $0.value != 0 }.map { "\($0.name) \($0.value)" }
        lines.append(
          "  \(port.transport) \(port.host) -> \(port.guest)  flows \(port.flows.count)  age \(port.ageSeconds) s\(counters.isEmpty ? "" : "  " + counters.joined(separator: "  "))"
        )
        for flow in port.flows {
          lines.append(
            "    \(flow.client) => \(flow.guestSide)  to guest \(flow.bytesToGuest) B  to client \(flow.bytesToClient) B  age \(flow.ageSeconds) s"
          )
        }
      }
      return lines
    }

    func write(to json: JSONWriter) {
      json.key("published")
      json.object {
        json.field("flow_limit_per_port", Int64(flowLimitPerPort))
        json.field("flow_limit", Int64(flowLimit))
        json.field("udp_flow_limit", Int64(udpFlowLimit))
        json.field("udp_flows", Int64(udpFlows))
        json.field("udp_idle_timeout_seconds", udpIdleTimeoutSeconds)
        json.field("tcp_half_closed_timeout_seconds", halfClosedTimeoutSeconds)
        json.key("ports")
        json.array(ports) { port in
          json.object {
            json.field("spec", port.spec)
            json.field("transport", port.transport)
            json.field("host", port.host)
            json.field("guest", port.guest)
            json.field("age_seconds", port.ageSeconds)
            json.key("counters")
            json.object {
              for counter in port.counters { json.field(counter.name, Int64(counter.value)) }
            }
            json.key("flows")
            json.array(port.flows) { flow in
              json.object {
                json.field("client", flow.client)
                json.field("guest_side", flow.guestSide)
                json.field("bytes_to_guest", Int64(flow.bytesToGuest))
                json.field("bytes_to_client", Int64(flow.bytesToClient))
                json.field("age_seconds", flow.ageSeconds)
              }
            }
          }
        }
      }
    }

    /// `publish list`'s answer: the text lines, or a JSON object with the one key.
    func listing(json: Bool) -> String {
      guard json else { return textLines.joined(separator: "\n") + "\n" }
      let writer = JSONWriter()
      writer.object { write(to: writer) }
      return writer.output + "\n"
    }
  }
}
