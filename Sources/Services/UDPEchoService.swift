import NetworkAPI

/// The echo service (RFC 862) over UDP: each datagram goes back to its sender.
public struct UDPEchoService: Sendable {
  public let port: UInt16
  public init(port: UInt16 = 7) { self.port = port }

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let socket = try await stack.bindUDP(port: port)
    while true {
      let (payload, source) = try await socket.receive()
      // Nothing goes back to "this host" (0.0.0.0, a DHCP client's source) or to port 0.
      guard source.address.isUnicast, source.port != 0 else { continue }
      try? await socket.send(payload, to: source)
    }
  }
}
