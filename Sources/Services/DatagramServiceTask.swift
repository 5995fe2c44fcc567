import Applications
import NetworkAPI
import Synchronization

/// Runs a UDP service's handler (``DatagramService``, the one the stack's loop runs in
/// `UDPServiceHost`) as a task over any ``NetworkStack``'s UDP socket: netstackd's
/// `--backend socket`, where the host kernel carries the datagrams. Each datagram received
/// goes to the handler; what it answers is sent from the same socket.
///
/// The handler is kept behind a lock so that the status report can read its counters from
/// outside the task.
public final class DatagramServiceTask: Sendable {
  private let state: Mutex<DatagramService>

  public init(_ service: DatagramService) {
    state = Mutex(service)
  }

  /// The service as it is now (its port, its counters).
  public var service: DatagramService { state.withLock { $0 } }

  /// Binds the service's port and serves until the socket fails.
  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let socket = try await stack.bindUDP(port: service.port)
    while true {
      let (payload, source) = try await socket.receive()
      let datagram = Datagram(payload: payload, address: source.address, port: source.port)
      guard let answer = state.withLock({ $0.receive(datagram) }) else { continue }
      // A failed send loses one answer, as a full socket buffer would; the service goes on.
      try? await socket.send(answer.payload, to: SocketAddress(answer.address, answer.port))
    }
  }
}
