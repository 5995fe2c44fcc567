import NetCore
import NetworkAPI
import Services
import Synchronization
import Testing

/// What a UDP forwarder's flow snapshot (status's published flows) says of the back side:
/// the address and port the target sees, which for a published port's flow that shows the
/// guest its client is the client's own, not the back socket's ephemeral port.
struct UDPFlowSnapshotTests {
  static let target = SocketAddress(IPv4Address(10, 0, 2, 15), 7007)
  static let client = SocketAddress(IPv4Address(10, 99, 0, 2), 40001)

  /// A front socket that hands out its datagrams, then waits until it is closed; the test
  /// learns when the forwarder asks for the next datagram (so is done with the last).
  final class HoldingUDPSocket: UDPSocketHandle {
    private struct State {
      var incoming: [(payload: [UInt8], from: SocketAddress)]
      var waiting: CheckedContinuation<Void, Never>?
      var closed = false
    }
    private let state: Mutex<State>
    /// Yields once the forwarder waits for a datagram with none left.
    let drained: AsyncStream<Void>
    private let drainedContinuation: AsyncStream<Void>.Continuation

    init(incoming: [(payload: [UInt8], from: SocketAddress)]) {
      state = Mutex(State(incoming: incoming))
      (drained, drainedContinuation) = AsyncStream.makeStream()
    }

    var localPort: UInt16 { 7070 }

    func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) {
      if let next = state.withLock({ $0.incoming.isEmpty ? nil : $0.incoming.removeFirst() }) {
        return next
      }
      await withCheckedContinuation { continuation in
        let closed = state.withLock { state in
          if !state.closed { state.waiting = continuation }
          return state.closed
        }
        if closed { continuation.resume() }
        drainedContinuation.yield()
      }
      throw .closed
    }

    func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError) {}

    func close() async {
      let waiting = state.withLock { state in
        state.closed = true
        defer { state.waiting = nil }
        return state.waiting
      }
      waiting?.resume()
    }
  }

  /// Runs a forwarder for one datagram of `client`'s whose flow socket is `socket`, and
  /// returns the flow's snapshot while it is open.
  static func snapshot(flowSocket socket: ScriptedUDPSocket) async throws
    -> UDPFlowForwarder<HoldingUDPSocket, ScriptedUDPStack>.FlowSnapshot
  {
    let front = HoldingUDPSocket(incoming: [(payload: [1], from: client)])
    let forwarder = UDPFlowForwarder(
      front: front, back: ScriptedUDPStack(incoming: []), target: target, maximumFlows: 4,
      idleTimeout: .seconds(60), executor: globalConcurrentExecutor,
      clock: { Instant(nanoseconds: 1) })
    forwarder.openFlowSocket = { _ throws(NetworkError) in socket }
    let run = Task { await forwarder.run() }
    var drained = front.drained.makeAsyncIterator()
    _ = await drained.next()
    let snapshots = forwarder.flowSnapshots
    await front.close()
    await run.value
    #expect(snapshots.count == 1)
    return try #require(snapshots.first)
  }

  @Test func aChosenSourceIsWhatTheSnapshotShows() async throws {
    let socket = ScriptedUDPSocket(incoming: [], chosenSource: Self.client)
    socket.bind(50123)
    let flow = try await Self.snapshot(flowSocket: socket)
    #expect(flow.backSource == Self.client)
    #expect(flow.backPort == 50123)
    #expect(flow.client == Self.client)
  }

  @Test func withoutOneTheSnapshotHasTheBackPortOnly() async throws {
    let socket = ScriptedUDPSocket(incoming: [])
    socket.bind(50124)
    let flow = try await Self.snapshot(flowSocket: socket)
    #expect(flow.backSource == nil && flow.backPort == 50124)
  }
}
