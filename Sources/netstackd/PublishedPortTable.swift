import ControlProtocol
import LinuxRuntime
import NetCore
import NetworkAPI
import Services

/// The published ports of a running daemon (`--publish`, `netstackd publish --control`): a
/// host socket per port in netstackd's namespace, and for each connection or UDP flow on it a
/// connection or socket of the stack into the guest (passt's `-t`/`-u`, docker's `-p`).
///
/// A TCP connection or UDP flow into the guest takes the client's own address and port as its
/// source when the stack is the guests' gateway (`--relay`), the client's address is of the
/// guest's family, and the client is neither on the host's loopback nor inside the guests'
/// subnet or prefixes (the guest answers it through the gateway, and the stack takes those
/// segments and datagrams for its own connection or flow); a loopback client (127.0.0.1,
/// ::1) appears at `--host-loopback`'s address of its family, else as the gateway (the
/// stack's address), as does a client of the other family. Either side may be IPv6.
///
/// Bounded: ``maximumPorts`` ports, ``maximumFlowsPerPort`` flows a port and ``maximumFlows`` in
/// all (a connection over a bound is reset at once, counted), of which at most
/// ``maximumUDPFlows`` UDP flows (a new client's datagram past it is dropped, counted), so
/// that a flood of UDP clients leaves room for TCP and for the stack's other UDP endpoints;
/// each TCP flow holds at most ``TCPSplice/bufferLimit`` bytes a direction besides the
/// stack's own buffers, which count against the memory budget. A TCP flow half-closed and
/// idle for ``halfClosedTimeout`` is reset (`PublishedPortTable+HalfClosed.swift`); both of
/// its ends have keepalive and a user timeout. Lives on the event loop: every task of it
/// prefers the loop.
final class PublishedPortTable: @unchecked Sendable {
  static let maximumPorts = 64
  static let maximumFlowsPerPort = 256
  static let maximumFlows = 1024
  /// UDP flows of every port together: each holds one of the stack's 1,024 UDP endpoints.
  static let maximumUDPFlows = 512
  /// The host listener's backlog.
  static let backlog = 128

  /// One TCP connection relayed into the guest.
  struct TCPFlow {
    var client: SocketAddress
    /// The stack's end towards the guest (its source as the guest sees it), once connected.
    var guestSide: SocketAddress?
    var bytesToGuest: UInt64 = 0
    var bytesToClient: UInt64 = 0
    let started: Instant
    /// When a byte last moved either way, or one side finished.
    var lastActive: Instant
    /// Whether the client has sent its FIN (passed on to the guest).
    var clientFinished = false
    /// Whether the guest has sent its FIN (passed on to the client).
    var guestFinished = false
    /// Whether the half-closed timeout has reset it (its tasks are still ending).
    var timedOut = false
    /// The client's connection, and the one into the guest once connected.
    let incoming: SocketTCPConnection
    var outgoing: DirectTCPConnection?
  }

  /// What a port did.
  struct PortCounters {
    var connectionsAccepted: UInt64 = 0
    var connectionsRefusedFull: UInt64 = 0
    var connectionsRefusedByGuest: UInt64 = 0
    var connectionsReset: UInt64 = 0
    var connectionsClosed: UInt64 = 0
    var clientAddressShown: UInt64 = 0
    /// UDP flows that could not take their client's address (another flow of the stack has
    /// the same four numbers) and came from the stack's own.
    var clientAddressInUse: UInt64 = 0
    var bytesToGuest: UInt64 = 0
    var bytesToClient: UInt64 = 0
    var halfClosedTimeouts: UInt64 = 0
  }

  /// One published port.
  final class Port: @unchecked Sendable {
    let spec: PublishSpec
    let added: Instant
    var counters = PortCounters()
    var tcpFlows: [Int: TCPFlow] = [:]
    var tcpListener: SocketTCPListener?
    var udp: UDPFlowForwarder<SocketUDPSocket, DirectNetworkStack>?
    var open = true

    init(spec: PublishSpec, added: Instant) {
      self.spec = spec
      self.added = added
    }

    var flowCount: Int { tcpFlows.count + (udp?.flowSnapshots.count ?? 0) }
  }

  let loop: EventLoop
  let stack: DirectNetworkStack
  /// Where connections and flows into the guest come from (the client where it can be).
  let mapping: PublishedClientMapping
  /// The guests' subnet (the stack's `--ip` network).
  var guestSubnet: IPv4CIDR { mapping.guestSubnet }
  let udpIdleTimeout: Interval
  let logger: Logger
  /// How long a half-closed TCP flow may move nothing before it is reset (nil: never).
  var halfClosedTimeout: Interval? = HostTCPRelay.defaultHalfClosedTimeout
  /// Keepalive and user timeout of the clients' host sockets.
  var hostLifetime = HostSocketLifetime()
  /// The UDP flows of every port, at most ``maximumUDPFlows``.
  let udpFlows = FlowAllowance(limit: PublishedPortTable.maximumUDPFlows)
  /// Whether the stack runs IPv6 (not on a link whose MTU is below 1280): an IPv6 guest's
  /// port is refused without it.
  var ipv6Runs = true
  /// Whether the task that resets half-closed TCP flows runs.
  var sweeping = false
  private(set) var ports: [Port] = []
  private var nextFlowID = 0
  /// Ports removed while connections of theirs still run.
  private var closing: [Port] = []

  init(
    loop: EventLoop, stack: DirectNetworkStack, mapping: PublishedClientMapping,
    udpIdleTimeout: Interval, logger: Logger
  ) {
    self.loop = loop
    self.stack = stack
    self.mapping = mapping
    self.udpIdleTimeout = udpIdleTimeout
    self.logger = logger
  }

  /// Every flow of every port, removed ones' included.
  var totalFlows: Int { (ports + closing).reduce(0) { $0 + $1.flowCount } }
  /// The published ports and the removed ones whose connections still run.
  var allPorts: [Port] { ports + closing }

  // MARK: Adding and removing

  /// Why a port could not be published.
  struct AddError: Error, CustomStringConvertible {
    var description: String
  }

  /// Listens on the spec's host address and port now and starts relaying. Must run on the
  /// loop's thread (the control socket's handler, or the start-up).
  func add(_ spec: PublishSpec) throws(AddError) {
    for port in ports where spec.clashes(with: port.spec) {
      throw AddError(
        description:
          "\(port.spec.transport.rawValue) port \(spec.hostPort) is already published (\(port.spec))"
      )
    }
    if guestSubnet.prefixLength < 31
      && (spec.guestAddress == .v4(guestSubnet.networkAddress)
        || spec.guestAddress == .v4(guestSubnet.broadcastAddress))
    {
      // Every guest would get the client's datagrams.
      throw AddError(
        description: "\(spec.guestAddress) is the guest subnet's network or broadcast address")
    }
    guard ipv6Runs || spec.guestAddress.isIPv4 else {
      throw AddError(
        description: "an IPv6 guest needs IPv6, which the link's MTU below 1280 turns off")
    }
    guard ports.count < PublishedPortTable.maximumPorts else {
      throw AddError(
        description: "already \(PublishedPortTable.maximumPorts) published ports, the most")
    }
    let host = SocketNetworkStack(loop: loop, bindAddresses: [spec.hostAddress])
    let port = Port(spec: spec, added: MonotonicClock.now())
    let guest = SocketAddress(spec.guestAddress, spec.guestPort)
    do {
      switch spec.transport {
      case .tcp:
        let listener = try host.listenImmediately(
          port: spec.hostPort, backlog: PublishedPortTable.backlog)
        port.tcpListener = listener
        Task(executorPreference: loop) { await self.acceptLoop(listener, port: port) }
        startSweeping()
      case .udp:
        let socket = try host.bindUDPImmediately(port: spec.hostPort)
        let forwarder = UDPFlowForwarder(
          front: socket, back: stack, target: guest,
          maximumFlows: PublishedPortTable.maximumFlowsPerPort, idleTimeout: udpIdleTimeout,
          executor: loop, clock: { MonotonicClock.now() })
        forwarder.allowance = udpFlows
        forwarder.openFlowSocket = {
          [unowned self] (client: SocketAddress) async throws(NetworkError) -> DirectUDPSocket in
          try await self.udpFlowSocket(for: client, to: guest, port: port)
        }
        port.udp = forwarder
        Task(executorPreference: loop) { await forwarder.run() }
        Task(executorPreference: loop) { await self.expireLoop(forwarder, port: port) }
      }
    } catch {
      throw AddError(
        description:
          "cannot listen on \(spec.transport.rawValue) \(spec.hostEndpoint): \(error)"
      )
    }
    ports.append(port)
  }

  /// Stops listening on the spec's host port (its address and port; the guest side need not
  /// match); its connections may finish. Returns the port removed, or nil.
  @discardableResult
  func remove(_ spec: PublishSpec) -> PublishSpec? {
    guard let index = ports.firstIndex(where: { $0.spec.hostKey == spec.hostKey }) else {
      return nil
    }
    let port = ports.remove(at: index)
    port.open = false
    if let listener = port.tcpListener {
      Task(executorPreference: loop) { await listener.close() }
      if !port.tcpFlows.isEmpty { closing.append(port) }
    }
    if let forwarder = port.udp {
      Task(executorPreference: loop) { await forwarder.stop() }
    }
    return port.spec
  }

  // MARK: TCP

  private func acceptLoop(_ listener: SocketTCPListener, port: Port) async {
    while port.open {
      let incoming: SocketTCPConnection
      do {
        incoming = try await listener.accept()
      } catch {
        if port.open { logger.error("published port \(port.spec): accept: \(error)") }
        return
      }
      guard port.open, port.tcpFlows.count < PublishedPortTable.maximumFlowsPerPort,
        totalFlows < PublishedPortTable.maximumFlows
      else {
        port.counters.connectionsRefusedFull += 1
        await incoming.abort()
        continue
      }
      port.counters.connectionsAccepted += 1
      let id = nextFlowID
      nextFlowID += 1
      incoming.apply(hostLifetime)
      let now = MonotonicClock.now()
      port.tcpFlows[id] = TCPFlow(
        client: incoming.remoteAddress, started: now, lastActive: now, incoming: incoming)
      Task(executorPreference: loop) { await self.relay(incoming, port: port, flow: id) }
    }
  }

  /// Where the stack's connection or flow into `guest` comes from for `client` (nil: the
  /// stack's own address and an ephemeral port; port 0: an ephemeral port).
  func guestSideSource(for client: SocketAddress, to guest: IPAddress) -> SocketAddress? {
    mapping.source(for: client, to: guest)
  }

  private func relay(_ incoming: SocketTCPConnection, port: Port, flow id: Int) async {
    defer { finish(port, flow: id) }
    let guest = SocketAddress(port.spec.guestAddress, port.spec.guestPort)
    let outgoing: DirectTCPConnection
    do {
      if let source = guestSideSource(for: incoming.remoteAddress, to: guest.address) {
        outgoing = try await stack.connect(to: guest, from: source)
        if source == incoming.remoteAddress { port.counters.clientAddressShown += 1 }
      } else {
        outgoing = try await stack.connect(to: guest)
      }
    } catch {
      port.counters.connectionsRefusedByGuest += 1
      await incoming.abort()  // the guest refused or is unreachable: so is the published port
      return
    }
    port.tcpFlows[id]?.guestSide = outgoing.localAddress
    port.tcpFlows[id]?.outgoing = outgoing
    try? await outgoing.setNoDelay(true)
    let ends = await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        let ended = await TCPSplice.copy(from: incoming, to: outgoing) { count in
          port.tcpFlows[id]?.bytesToGuest += UInt64(count)
          port.tcpFlows[id]?.lastActive = MonotonicClock.now()
          port.counters.bytesToGuest += UInt64(count)
        }
        if ended { self.finished(port, flow: id, client: true) }
        return ended
      }
      group.addTask {
        let ended = await TCPSplice.copy(from: outgoing, to: incoming) { count in
          port.tcpFlows[id]?.bytesToClient += UInt64(count)
          port.tcpFlows[id]?.lastActive = MonotonicClock.now()
          port.counters.bytesToClient += UInt64(count)
        }
        if ended { self.finished(port, flow: id, client: false) }
        return ended
      }
      var clean = true
      for await ended in group { clean = clean && ended }
      return clean
    }
    if ends {
      port.counters.connectionsClosed += 1
    } else {
      port.counters.connectionsReset += 1
    }
    await incoming.close()
    await outgoing.close()
  }

  private func finish(_ port: Port, flow id: Int) {
    port.tcpFlows[id] = nil
    if !port.open && port.tcpFlows.isEmpty { closing.removeAll { $0 === port } }
  }

  // MARK: UDP

  /// The stack's socket of a UDP flow into `guest` for `client`: from the client's address
  /// and port (or `--host-loopback`'s address) where ``guestSideSource(for:to:)`` allows it,
  /// as TCP's connections; from the stack's own address and an ephemeral port otherwise, or
  /// when another flow has those four numbers already (counted).
  private func udpFlowSocket(for client: SocketAddress, to guest: SocketAddress, port: Port)
    async throws(NetworkError) -> DirectUDPSocket
  {
    if let source = guestSideSource(for: client, to: guest.address) {
      do {
        let socket = try await stack.bindUDP(from: source, to: guest)
        if source == client { port.counters.clientAddressShown += 1 }
        return socket
      } catch .addressInUse {
        port.counters.clientAddressInUse += 1
      } catch {
        throw error
      }
    }
    return try await stack.bindUDP(port: 0)
  }

  /// Closes the forwarder's idle flows once a second while the port is published.
  private func expireLoop(
    _ forwarder: UDPFlowForwarder<SocketUDPSocket, DirectNetworkStack>, port: Port
  ) async {
    while port.open {
      try? await Task.sleep(for: .seconds(1))
      forwarder.expireIdleFlows()
    }
  }

  /// Closes every port (the daemon stops).
  func shutdown() {
    for port in ports { remove(port.spec) }
  }
}
