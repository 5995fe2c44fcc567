import NetCore
import NetworkAPI
import Synchronization

/// A ``NetworkStack`` for service tests: its one UDP socket hands out the datagrams it was
/// given, then fails with `.closed` (which ends the service), and keeps what was sent. It has
/// no TCP: `listen` and `connect` fail.
struct ScriptedUDPStack: NetworkStack {
  let socket: ScriptedUDPSocket

  init(incoming: [(payload: [UInt8], from: SocketAddress)]) {
    socket = ScriptedUDPSocket(incoming: incoming)
  }

  func listen(port: UInt16, backlog: Int) async throws(NetworkError) -> NoTCPListener {
    throw .other("no TCP in this stack")
  }

  func connect(to address: SocketAddress) async throws(NetworkError) -> NoTCPConnection {
    throw .other("no TCP in this stack")
  }

  func bindUDP(port: UInt16) async throws(NetworkError) -> ScriptedUDPSocket {
    socket.bind(port)
    return socket
  }

  var stackDescription: String { "scripted" }
}

/// The scripted stack's UDP socket.
final class ScriptedUDPSocket: UDPSocketHandle {
  private struct State {
    var port: UInt16 = 0
    var incoming: [(payload: [UInt8], from: SocketAddress)]
    var sent: [(payload: [UInt8], to: SocketAddress)] = []
  }
  private let state: Mutex<State>
  /// Where it says its datagrams leave from (a published port's flow's socket), if anywhere
  /// but its own port.
  let chosenSource: SocketAddress?

  init(incoming: [(payload: [UInt8], from: SocketAddress)], chosenSource: SocketAddress? = nil) {
    state = Mutex(State(incoming: incoming))
    self.chosenSource = chosenSource
  }

  func bind(_ port: UInt16) { state.withLock { $0.port = port } }

  /// What the service sent, in order.
  var sent: [(payload: [UInt8], to: SocketAddress)] { state.withLock { $0.sent } }

  var localPort: UInt16 { state.withLock { $0.port } }

  func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) {
    let next = state.withLock { state in
      state.incoming.isEmpty ? nil : state.incoming.removeFirst()
    }
    guard let next else { throw .closed }
    return next
  }

  func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError) {
    state.withLock { $0.sent.append((payload, destination)) }
  }

  func close() async {}
}

/// The scripted stack's TCP listener type, never made.
struct NoTCPListener: TCPListenerHandle {
  var localPort: UInt16 { 0 }
  func accept() async throws(NetworkError) -> NoTCPConnection { throw .closed }
  func close() async {}
}

/// The scripted stack's TCP connection type, never made.
struct NoTCPConnection: TCPConnectionHandle {
  var localAddress: SocketAddress { SocketAddress(.any, 0) }
  var remoteAddress: SocketAddress { SocketAddress(.any, 0) }
  func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int { throw .closed }
  func read(inPlace body: (Span<UInt8>) -> Int) async throws(NetworkError) -> Int {
    throw .closed
  }
  func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError) { throw .closed }
  func shutdownWrite() async throws(NetworkError) { throw .closed }
  func setNoDelay(_ noDelay: Bool) async throws(NetworkError) { throw .closed }
  func close() async {}
  func abort() async {}
}
