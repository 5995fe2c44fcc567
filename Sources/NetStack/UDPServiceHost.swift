import Applications
import IPv4
import NetCore
import UDP

/// Runs UDP services on the stack's UDP layer with no task: it binds each service's port and,
/// when datagrams wait there, hands each to the service's handler (a `DatagramHandler` from
/// Applications) and sends what the handler answers, from the same port (RFC 768). The same
/// host serves
/// netstackd's direct backend and the unikernel; the handlers are the ones `--backend socket`
/// drives over host sockets. ``TCPServiceHost`` is its TCP sibling.
///
/// The datagrams a port holds are bounded by its UDP endpoint's queue
/// (`UDPLayer.Configuration`), and the host answers all of them in the poll they arrived in.
public struct UDPServiceHost {
  /// One service and the endpoint it is bound to.
  private struct Binding {
    var endpoint: UDPEndpointID
    var service: DatagramService
  }

  private var bindings: [Binding] = []

  public init() {}

  /// The services and their ports, in the order they were started.
  public var ports: [(port: UInt16, service: DatagramService)] {
    bindings.map { ($0.service.port, $0.service) }
  }

  /// What the UDP echo services did, summed over their ports (nil without one).
  public var udpEchoCounters: UDPEchoCounters? {
    var total: UDPEchoCounters?
    for binding in bindings {
      guard let counters = binding.service.udpEchoCounters else { continue }
      total = (total ?? UDPEchoCounters()) + counters
    }
    return total
  }

  /// Starts `service` on its port.
  public mutating func start(_ service: DatagramService, udp: inout UDPLayer) throws(UDPError) {
    let endpoint = try udp.bind(port: service.port)
    bindings.append(Binding(endpoint: endpoint, service: service))
  }

  /// Answers every datagram waiting on a service's endpoint that is in `readable`, and takes
  /// those endpoints off the list (the rest are the application API's).
  public mutating func serve<Network: TransportNetwork>(
    readable: inout [UDPEndpointID], udp: inout UDPLayer, network: inout Network, now: Instant
  ) {
    for index in bindings.indices {
      let endpoint = bindings[index].endpoint
      guard let position = readable.firstIndex(of: endpoint) else { continue }
      readable.remove(at: position)
      while let received = udp.receive(from: endpoint) {
        let datagram = Datagram(
          payload: received.payload, address: received.source, port: received.sourcePort)
        guard let answer = bindings[index].service.receive(datagram) else { continue }
        // A failure (no route, too long) is counted by the UDP layer (udp.send_errors).
        try? udp.send(
          answer.payload.span, from: endpoint, to: answer.address, port: answer.port,
          through: &network, now: now)
      }
    }
  }
}
