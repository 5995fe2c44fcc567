import NetworkAPI

/// The echo service (RFC 862) over UDP: each datagram goes back to its sender, unless
/// ``UDPEchoRefusal`` says that answering could start a loop or reach no single host; each
/// refusal is counted in ``counters``.
public struct UDPEchoService: Sendable {
  public let port: UInt16
  public let counters: UDPEchoCounters

  public init(port: UInt16 = 7, counters: UDPEchoCounters = UDPEchoCounters()) {
    self.port = port
    self.counters = counters
  }

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let socket = try await stack.bindUDP(port: port)
    while true {
      let (payload, source) = try await socket.receive()
      counters.countReceived()
      if let refusal = UDPEchoRefusal(source: source, servicePort: port) {
        counters.count(refusal)
        continue
      }
      if (try? await socket.send(payload, to: source)) != nil { counters.countEchoed() }
    }
  }
}
