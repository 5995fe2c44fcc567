import CLinuxShims
import Glibc
import IPv4
import NetCore
import NetStack
import NetworkAPI

/// The host side of the relay's UDP: each guest flow (a `UDPFlowTable` entry: guest address and
/// port, destination address and port) gets a UDP socket of its own (`AF_INET` or `AF_INET6`, as
/// the destination), bound to a port the kernel chooses and connected to the destination (so that the kernel passes on only the
/// destination's datagrams and its ICMP errors, RFC 1122 §4.1.3.3). The guest's datagrams are
/// sent from it; what arrives goes back to the guest from the address and port it sent to. A
/// refused destination (ICMP port unreachable to the socket) becomes a port unreachable to the
/// guest; an unreachable one a host or network unreachable. Flows expire after the table's
/// idle timeout (a ``LoopTimer``); at its limit the least recently used flow is closed. Loop
/// thread only.
public final class HostUDPRelay {
  public private(set) var table: UDPFlowTable
  public private(set) var counters = HostUDPRelayCounters()

  private unowned let runtime: DirectStackRuntime
  private let loop: EventLoop
  private let logger: Logger
  private let timer: LoopTimer
  private var sockets: [UInt64: Int32] = [:]
  private var buffer = ReceiveBuffer(size: 65536)
  /// Datagrams read per readiness event, so that one socket cannot hold the loop.
  static let readsPerEvent = 16

  public init(runtime: DirectStackRuntime, table: UDPFlowTable, logger: Logger)
    throws(SystemError)
  {
    self.runtime = runtime
    self.loop = runtime.loop
    self.logger = logger
    self.table = table
    timer = try LoopTimer()
    try loop.register(timer.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
      [unowned self] _ in
      timer.acknowledge()
      expireFlows(now: MonotonicClock.now())
    }
  }

  /// Closes every flow's socket and the timer.
  public func shutdown() {
    for id in Array(sockets.keys) { closeSocket(id) }
    loop.unregister(timer.fileDescriptor)
  }

  /// Sockets open (one per flow).
  public var openSockets: Int { sockets.count }

  /// Sends the datagrams the last poll queued.
  public func drain(now: Instant) {
    for datagram in runtime.stack.takeRelayedUDPDatagrams() { send(datagram, now: now) }
  }

  // MARK: Sending

  private func send(_ datagram: RelayedUDPDatagram, now: Instant) {
    let use = table.use(datagram.flow, hostDestination: datagram.hostDestination, now: now)
    if let evicted = use.evicted { closeSocket(evicted) }
    if use.created {
      guard
        let descriptor = openSocket(
          to: datagram.hostDestination, port: datagram.flow.destinationPort, flow: use.id)
      else {
        let code = errno
        table.remove(use.id)
        counters.socketFailures += 1
        logger.debug(
          "relay: udp socket to \(SocketAddress(datagram.hostDestination, datagram.flow.destinationPort)): \(String(cString: strerror(code)))"
        )
        refuse(datagram.flow, errno: code, now: now)
        return
      }
      sockets[use.id] = descriptor
      counters.socketsOpened += 1
      timer.arm(at: table.nextDeadline)
    }
    guard let descriptor = sockets[use.id] else { return }
    let sent = datagram.payload.withUnsafeBytes {
      Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
    }
    if sent == datagram.payload.count {
      counters.datagramsSent += 1
      return
    }
    let code = errno
    counters.sendFailures += 1
    refuse(datagram.flow, errno: code, now: now)
  }

  /// A UDP socket bound to a port of the kernel's choosing and connected to the destination;
  /// nil with errno.
  private func openSocket(to address: IPAddress, port: UInt16, flow id: UInt64) -> Int32? {
    let descriptor = Glibc.socket(
      HostSocketAddress.family(of: address),
      Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    let target = HostSocketAddress(SocketAddress(address, port))
    let connected = target.withSockaddr { connect(descriptor, $0, $1) }
    guard connected == 0 else {
      let code = errno
      close(descriptor)
      errno = code
      return nil
    }
    do {
      try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        readDatagrams(flow: id)
      }
    } catch {
      close(descriptor)
      errno = error.errno
      return nil
    }
    return descriptor
  }

  /// Answers the guest of `flow` as the errno of a send or receive says (the kernel turns an
  /// ICMP or ICMPv6 error to the connected socket into one): port unreachable for a refusal,
  /// host (address) or network unreachable (no route); nothing for other failures.
  private func refuse(_ flow: UDPFlowKey, errno code: Int32, now: Instant) {
    let unreachable: RelayUnreachable? =
      switch code {
      case ECONNREFUSED: .port
      case EHOSTUNREACH: .host
      case ENETUNREACH: .network
      case EACCES, EPERM: .administrativelyProhibited
      default: nil
      }
    guard let unreachable else { return }
    counters.refusalsSent += 1
    runtime.stack.refuseRelayedUDP(flow, code: unreachable, now: now)
  }

  // MARK: Receiving

  private func readDatagrams(flow id: UInt64) {
    for _ in 0..<HostUDPRelay.readsPerEvent {
      guard let descriptor = sockets[id], let flow = table.flow(id) else { return }
      let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
      if count < 0 {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return }
        // An ICMP error for the connected socket: tell the guest, once per error.
        counters.receiveErrors += 1
        refuse(flow.key, errno: code, now: MonotonicClock.now())
        continue
      }
      let now = MonotonicClock.now()
      table.recordReply(id, now: now)
      counters.datagramsReceived += 1
      let payload = Array(buffer[0..<count])
      if !runtime.stack.sendRelayedUDPReply(on: flow.key, payload: payload.span, now: now) {
        counters.repliesNotSent += 1
      }
    }
  }

  // MARK: Flows

  private func expireFlows(now: Instant) {
    for id in table.expire(now: now) { closeSocket(id) }
    timer.arm(at: table.nextDeadline)
  }

  private func closeSocket(_ id: UInt64) {
    guard let descriptor = sockets.removeValue(forKey: id) else { return }
    loop.unregister(descriptor)
    close(descriptor)
  }
}

/// What the host side of the UDP relay did.
public struct HostUDPRelayCounters: Sendable, Equatable {
  public var socketsOpened: UInt64 = 0
  /// UDP sockets that could not be opened or connected (out of descriptors, no route).
  public var socketFailures: UInt64 = 0
  public var datagramsSent: UInt64 = 0
  public var sendFailures: UInt64 = 0
  public var datagramsReceived: UInt64 = 0
  /// ICMP errors and other failures reported by a flow's socket.
  public var receiveErrors: UInt64 = 0
  /// Destination unreachable messages sent to guests for them.
  public var refusalsSent: UInt64 = 0
  /// Datagrams received that could not be sent on to the guest (too long, no route).
  public var repliesNotSent: UInt64 = 0

  public init() {}

  /// Name and value of each counter.
  public var all: [(name: String, value: UInt64)] {
    [
      ("sockets_opened", socketsOpened), ("socket_failures", socketFailures),
      ("datagrams_sent", datagramsSent), ("send_failures", sendFailures),
      ("datagrams_received", datagramsReceived), ("receive_errors", receiveErrors),
      ("refusals_sent", refusalsSent), ("replies_not_sent", repliesNotSent),
    ]
  }
}
