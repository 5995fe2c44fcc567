import NetCore
import NetworkAPI

/// UDP relayed between one front socket that many clients send to and, per client (a flow),
/// a socket of another stack that sends to one fixed target: each client's datagrams go to the
/// target from the flow's own socket, and what the target answers on it goes back to that
/// client (NAT-style port mapping, RFC 4787 §4.1 "endpoint-independent mapping" towards one
/// target). `netstackd --forward udp:` (front: the stack's port, back: host sockets) and
/// `--publish udp:` (front: a host socket, back: the stack).
///
/// Bounded: at most `maximumFlows` flows, the least recently active closed for a new one; a
/// flow idle for `idleTimeout` is closed. With an ``allowance`` shared with other forwarders,
/// a new client's datagram is dropped and counted when every place of it is taken (as
/// Linux's connection tracking drops a new flow when its table is full). Datagrams reaching
/// a flow's socket from anywhere but the target are dropped and counted. All state lives on
/// the loop the tasks run on.
public final class UDPFlowForwarder<Front: UDPSocketHandle, Back: NetworkStack>: @unchecked Sendable
{
  /// One client's flow as status shows it.
  public struct FlowSnapshot: Sendable {
    public var client: SocketAddress
    /// The local port of the flow's socket on the back stack.
    public var backPort: UInt16
    /// Where the target sees the flow come from when the back socket chose it (its
    /// `chosenSource`: the client's address and port for a published port's flow); nil for
    /// the back stack's own address at ``backPort``.
    public var backSource: SocketAddress?
    public var datagramsToTarget: UInt64
    public var datagramsToClient: UInt64
    public var bytesToTarget: UInt64
    public var bytesToClient: UInt64
    public var started: Instant
    public var lastActive: Instant
  }

  /// What the forwarder did, for status and the counters.
  public struct Counters: Sendable {
    public var flowsOpened: UInt64 = 0
    public var flowsExpired: UInt64 = 0
    public var flowsEvicted: UInt64 = 0
    public var socketFailures: UInt64 = 0
    public var datagramsToTarget: UInt64 = 0
    public var datagramsToClient: UInt64 = 0
    public var sendFailures: UInt64 = 0
    public var droppedForeignSource: UInt64 = 0
    /// New clients' datagrams dropped because the shared ``allowance`` was all taken.
    public var droppedFlowLimit: UInt64 = 0

    public init() {}
  }

  private struct Flow {
    var snapshot: FlowSnapshot
    let socket: Back.Datagrams
  }

  public let front: Front
  public let back: Back
  public let target: SocketAddress
  public let maximumFlows: Int
  public let idleTimeout: Interval
  private let clock: @Sendable () -> Instant
  /// The loop every task of the forwarder runs on (its state is that loop's alone).
  private let executor: any TaskExecutor
  private var flows: [SocketAddress: Flow] = [:]
  public private(set) var counters = Counters()
  private var stopped = false
  /// Places shared with other forwarders: each flow holds one (nil: only ``maximumFlows``).
  /// Set it before ``run()``.
  public var allowance: FlowAllowance?
  /// Opens the back stack's socket of a new client's flow (nil: `back.bindUDP(port: 0)`, the
  /// back stack's own address and an ephemeral port): a published port's flow takes the
  /// client's address and port where it can. Set it before ``run()``.
  public var openFlowSocket:
    (@Sendable (SocketAddress) async throws(NetworkError) -> Back.Datagrams)?

  public init(
    front: Front, back: Back, target: SocketAddress, maximumFlows: Int, idleTimeout: Interval,
    executor: any TaskExecutor, clock: @escaping @Sendable () -> Instant
  ) {
    self.executor = executor
    self.front = front
    self.back = back
    self.target = target
    self.maximumFlows = max(1, maximumFlows)
    self.idleTimeout = idleTimeout
    self.clock = clock
  }

  /// The flows now.
  public var flowSnapshots: [FlowSnapshot] { flows.values.map(\.snapshot) }

  /// Receives on the front socket and relays until it is closed (``stop()``). Run it as a
  /// task that prefers the forwarder's executor.
  public func run() async {
    while !stopped {
      let received: (payload: [UInt8], from: SocketAddress)
      do {
        received = try await front.receive()
      } catch {
        break
      }
      // Idle flows are closed by the owner's periodic expireIdleFlows(), not per datagram
      // (a scan of every flow per datagram would let a sender make each one cost O(flows)).
      guard let socket = await flowSocket(for: received.from) else { continue }
      do {
        try await socket.send(received.payload, to: target)
        counters.datagramsToTarget += 1
        flows[received.from]?.snapshot.datagramsToTarget += 1
        flows[received.from]?.snapshot.bytesToTarget += UInt64(received.payload.count)
      } catch {
        counters.sendFailures += 1
      }
    }
    await stop()
  }

  /// Closes the front socket and every flow (once; later calls do nothing).
  public func stop() async {
    guard !stopped else { return }
    stopped = true
    await front.close()
    for client in Array(flows.keys) { await close(client) }
  }

  /// Closes the flows idle for longer than ``idleTimeout``.
  public func expireIdleFlows() {
    let now = clock()
    for (client, flow) in flows where now - flow.snapshot.lastActive >= idleTimeout {
      counters.flowsExpired += 1
      let socket = flow.socket
      flows[client] = nil
      allowance?.giveBack()
      Task(executorPreference: executor) { await socket.close() }
    }
  }

  /// The socket of `client`'s flow, opened (and its answers relayed) when it has none.
  private func flowSocket(for client: SocketAddress) async -> Back.Datagrams? {
    let now = clock()
    if flows[client] != nil {
      flows[client]!.snapshot.lastActive = now
      return flows[client]!.socket
    }
    if flows.count >= maximumFlows,
      let oldest = flows.min(by: { $0.value.snapshot.lastActive < $1.value.snapshot.lastActive })
    {
      counters.flowsEvicted += 1
      await close(oldest.key)
    }
    if let allowance, !allowance.take() {
      counters.droppedFlowLimit += 1
      return nil
    }
    let socket: Back.Datagrams
    do {
      if let openFlowSocket {
        socket = try await openFlowSocket(client)
      } else {
        socket = try await back.bindUDP(port: 0)
      }
    } catch {
      allowance?.giveBack()
      counters.socketFailures += 1
      return nil
    }
    guard !stopped, flows[client] == nil else {
      // stop() ran, or another datagram of this client opened its flow, while the socket
      // was being bound: this one would never be closed.
      allowance?.giveBack()
      await socket.close()
      return stopped ? nil : flows[client]?.socket
    }
    counters.flowsOpened += 1
    flows[client] = Flow(
      snapshot: FlowSnapshot(
        client: client, backPort: socket.localPort, backSource: socket.chosenSource,
        datagramsToTarget: 0, datagramsToClient: 0,
        bytesToTarget: 0, bytesToClient: 0, started: now, lastActive: now),
      socket: socket)
    Task(executorPreference: executor) { await self.relayAnswers(on: socket, to: client) }
    return socket
  }

  /// Sends `client` what the target answers on the flow's socket, until it is closed.
  private func relayAnswers(on socket: Back.Datagrams, to client: SocketAddress) async {
    while true {
      let received: (payload: [UInt8], from: SocketAddress)
      do {
        received = try await socket.receive()
      } catch {
        return
      }
      guard received.from == target else {
        counters.droppedForeignSource += 1
        continue
      }
      do {
        try await front.send(received.payload, to: client)
        counters.datagramsToClient += 1
        if flows[client]?.socket.localPort == socket.localPort {
          flows[client]!.snapshot.lastActive = clock()
          flows[client]!.snapshot.datagramsToClient += 1
          flows[client]!.snapshot.bytesToClient += UInt64(received.payload.count)
        }
      } catch {
        counters.sendFailures += 1
      }
    }
  }

  private func close(_ client: SocketAddress) async {
    guard let flow = flows.removeValue(forKey: client) else { return }
    allowance?.giveBack()
    await flow.socket.close()
  }
}
