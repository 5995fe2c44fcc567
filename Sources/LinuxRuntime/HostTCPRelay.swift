import CLinuxShims
import Glibc
import IPv4
import NetCore
import NetStack
import NetworkAPI
import TCP

/// The host side of the relay's TCP (as slirp4netns, passt and gvisor-tap-vsock do): each
/// guest SYN to another host that the stack kept as a pending open gets a non-blocking host
/// socket and a `connect()` to the real destination. When it connects, the stack completes
/// the guest's handshake and the two are spliced (`HostTCPRelay+Splice.swift`); when it is
/// refused the guest gets a RST; when the destination is unreachable, or `connect()` has not
/// finished after ``connectTimeout``, an ICMP destination unreachable (RFC 1122 §3.2.2.1).
/// At most ``maximumFlows`` flows (connecting or spliced); past that an open is refused with
/// a RST. An open flow idle both ways stays open while both peers answer keepalive (the
/// stack's `--tcp-keepalive` towards the guest, ``lifetime`` on the host socket); a flow
/// half-closed and idle for ``halfClosedTimeout`` is reset both ways
/// (`HostTCPRelay+HalfClosed.swift`). Loop thread only.
public final class HostTCPRelay: @unchecked Sendable {
  /// How long a host `connect()` may take before the guest is told the host is unreachable.
  public static let connectTimeout = Interval.seconds(30)
  /// The most bytes one `recv(2)` from a host socket moves into the guest's send buffer.
  static let chunkSize = 65536

  public let maximumFlows: Int
  public internal(set) var counters = HostTCPRelayCounters()
  /// Keepalive and user timeout of the host sockets (set before the first flow).
  public var lifetime = HostSocketLifetime()
  /// How long a half-closed flow may move no byte before both sides are reset (two hours by
  /// default, as passt's `ACT_TIMEOUT`); nil for never.
  public var halfClosedTimeout: Interval? = HostTCPRelay.defaultHalfClosedTimeout
  unowned let runtime: DirectStackRuntime
  let loop: EventLoop
  let logger: Logger
  /// The host sockets' readiness (edge-triggered epoll) wakes the splicing tasks.
  let sockets: SocketNetworkStack
  let timer: LoopTimer
  var armedDeadline: Instant?
  var flows: [UInt64: HostTCPRelayFlow] = [:]

  /// A relay of at most `maximumFlows` TCP flows for `runtime`'s stack.
  public init(runtime: DirectStackRuntime, maximumFlows: Int, logger: Logger) throws(SystemError) {
    self.runtime = runtime
    self.loop = runtime.loop
    self.logger = logger
    self.maximumFlows = max(1, maximumFlows)
    sockets = SocketNetworkStack(loop: runtime.loop, bindAddress: IPv4Address(0, 0, 0, 0))
    timer = try LoopTimer()
    try loop.register(timer.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
      [unowned self] _ in
      timer.acknowledge()
      armedDeadline = nil
      let now = MonotonicClock.now()
      expireConnects(now: now)
      expireHalfClosed(now: now)
    }
  }

  /// Resets every flow and closes the timer.
  public func shutdown() {
    for id in Array(flows.keys) { finish(id, resetGuest: true, resetHost: true) }
    loop.unregister(timer.fileDescriptor)
  }

  /// The flows, oldest first.
  public var all: [HostTCPRelayFlow] { flows.values.sorted { $0.id < $1.id } }

  /// The stack's pending opens (guests' SYNs waiting for a host `connect()`).
  public var pendingOpens: TCPPendingOpenTable? { runtime.stack.tcp.pendingOpens }

  /// Flows open now (connecting or spliced).
  public var count: Int { flows.count }

  /// Starts connecting the opens the last poll recorded.
  public func drain(now: Instant) {
    for open in runtime.stack.takeRelayedTCPOpens() { start(open, now: now) }
  }

  // MARK: Opening

  private func start(_ open: TCPPendingOpenTable.Entry, now: Instant) {
    guard flows.count < maximumFlows else {
      counters.refusedFlowLimit += 1
      runtime.stack.refuseRelayedTCPOpen(open.id, now: now)
      return
    }
    guard
      case .relay(let hostDestination)? = runtime.stack.relay?.policy.decision(
        for: open.tuple.localAddress)
    else {
      runtime.stack.rejectRelayedTCPOpen(open.id, code: .administrativelyProhibited, now: now)
      return
    }
    let descriptor = Glibc.socket(
      HostSocketAddress.family(of: hostDestination),
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else {
      counters.socketFailures += 1
      logger.debug("relay: tcp socket: \(String(cString: strerror(errno)))")
      runtime.stack.refuseRelayedTCPOpen(open.id, now: now)
      return
    }
    do {
      try sockets.register(descriptor)
    } catch {
      Glibc.close(descriptor)
      counters.socketFailures += 1
      runtime.stack.refuseRelayedTCPOpen(open.id, now: now)
      return
    }
    let target = HostSocketAddress(SocketAddress(hostDestination, open.tuple.localPort))
    let result = target.withSockaddr { Glibc.connect(descriptor, $0, $1) }
    let code = result == 0 ? 0 : errno
    if result != 0 && code != EINPROGRESS {
      sockets.release(descriptor)
      answerFailedOpen(open.id, errno: code, destination: hostDestination, now: now)
      return
    }
    let flow = HostTCPRelayFlow(
      id: open.id, tuple: open.tuple, hostDestination: hostDestination, created: now,
      connectDeadline: now + HostTCPRelay.connectTimeout, descriptor: descriptor)
    flows[open.id] = flow
    if armedDeadline == nil || flow.connectDeadline < armedDeadline! {
      armedDeadline = flow.connectDeadline
      timer.arm(at: flow.connectDeadline)
    }
    Task(executorPreference: loop) { await self.awaitConnect(open.id) }
  }

  /// Waits for the host socket's `connect()` to finish, then answers the pending open.
  private func awaitConnect(_ id: UInt64) async {
    while let flow = flows[id], flow.state == .connecting {
      var failure: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(flow.descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
      let now = MonotonicClock.now()
      if failure != 0 {
        flows[id] = nil
        sockets.release(flow.descriptor)
        answerFailedOpen(id, errno: failure, destination: flow.hostDestination, now: now)
        return
      }
      let local = SocketNetworkStack.localEndpoint(flow.descriptor)
      var peer = HostSocketAddress()
      let connected = peer.withMutableSockaddr { getpeername(flow.descriptor, $0, $1) }
      if connected == 0 {
        established(id, hostPort: local?.port ?? 0, now: now)
        return
      }
      await sockets.writers.wait(flow.descriptor)
    }
  }

  /// The host connected: the guest's handshake completes and the splicing starts.
  private func established(_ id: UInt64, hostPort: UInt16, now: Instant) {
    guard var flow = flows[id] else { return }
    guard let connection = runtime.stack.acceptRelayedTCPOpen(id, now: now) else {
      counters.opensAbandoned += 1
      flows[id] = nil
      abortHostSocket(flow.descriptor)
      return
    }
    counters.opened += 1
    flow.hostPort = hostPort
    flow.connection = connection
    flow.state = .handshaking
    flow.lastActive = now
    flows[id] = flow
    lifetime.apply(to: flow.descriptor)
    var noDelay: Int32 = 1
    setsockopt(
      flow.descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay,
      socklen_t(MemoryLayout<Int32>.size))
    Task(executorPreference: loop) { await self.spliceGuestToHost(id) }
    Task(executorPreference: loop) { await self.spliceHostToGuest(id) }
  }

  /// Answers a pending open whose host `connect()` failed with `code`.
  private func answerFailedOpen(
    _ id: UInt64, errno code: Int32, destination: IPAddress, now: Instant
  ) {
    logger.debug("relay: tcp to \(destination): \(String(cString: strerror(code)))")
    switch code {
    case EHOSTUNREACH, ETIMEDOUT:
      counters.unreachable += 1
      runtime.stack.rejectRelayedTCPOpen(id, code: .host, now: now)
    case ENETUNREACH:
      counters.unreachable += 1
      runtime.stack.rejectRelayedTCPOpen(id, code: .network, now: now)
    case EACCES, EPERM:
      counters.unreachable += 1
      runtime.stack.rejectRelayedTCPOpen(id, code: .administrativelyProhibited, now: now)
    case ECONNREFUSED, ECONNRESET:
      counters.refused += 1
      runtime.stack.refuseRelayedTCPOpen(id, now: now)
    default:
      counters.socketFailures += 1
      runtime.stack.refuseRelayedTCPOpen(id, now: now)
    }
  }

  /// Opens whose `connect()` outlived ``connectTimeout``: the guest is told the host is
  /// unreachable.
  private func expireConnects(now: Instant) {
    var next: Instant? = nil
    for flow in flows.values where flow.state == .connecting {
      if flow.connectDeadline <= now {
        counters.connectTimeouts += 1
        flows[flow.id] = nil
        sockets.release(flow.descriptor)
        answerFailedOpen(flow.id, errno: ETIMEDOUT, destination: flow.hostDestination, now: now)
      } else if next == nil || flow.connectDeadline < next! {
        next = flow.connectDeadline
      }
    }
    armedDeadline = next
    timer.arm(at: next)
  }

  // MARK: Closing

  /// Ends flow `id`: its guest connection is reset (`resetGuest`) or released after its
  /// close, its host socket reset (`resetHost`) or closed; the tasks waiting on either are
  /// woken and find the flow gone.
  func finish(_ id: UInt64, resetGuest: Bool, resetHost: Bool) {
    guard let flow = flows.removeValue(forKey: id) else { return }
    if let connection = flow.connection {
      if resetGuest {
        runtime.stack.tcp.abort(connection)
      } else {
        runtime.stack.tcp.close(connection)
      }
      runtime.readers.resumeAll(connection)
      runtime.writers.resumeAll(connection)
    } else {
      runtime.stack.refuseRelayedTCPOpen(id, now: MonotonicClock.now())
    }
    if resetHost {
      abortHostSocket(flow.descriptor)
    } else {
      sockets.release(flow.descriptor)
    }
  }

  /// Closes a host socket with a RST (`SO_LINGER` with a zero timeout).
  func abortHostSocket(_ descriptor: Int32) {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    setsockopt(
      descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    sockets.release(descriptor)
  }
}
