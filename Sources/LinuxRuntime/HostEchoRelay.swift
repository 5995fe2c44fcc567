import CLinuxShims
import Glibc
import IPv4
import NetCore
import NetStack
import NetworkAPI

/// The host side of the relay's ping: each guest echo flow (`ICMPEchoFlowTable`) gets an
/// unprivileged ICMP socket (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, or
/// `socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)` for an IPv6 destination, both allowed for the
/// groups in `net.ipv4.ping_group_range`); the guest's requests are sent from it with their
/// sequence and data (the kernel sets the identifier, RFC 792), and the replies go back to the
/// guest from the address it pinged, with its own identifier.
///
/// Where the host allows no ping sockets (the range is `1 0` by default), the first socket
/// fails at start: the relay says so in the log and in status (``unavailableReason``), and the
/// stack answers guests' echo requests to other hosts with "communication administratively
/// prohibited" (counted). A send that fails answers "network" or "host unreachable"
/// (ENETUNREACH, EHOSTUNREACH) or "administratively prohibited" (EACCES, EPERM). An ICMP
/// destination unreachable about a request that reaches the socket (`IP_RECVERR`,
/// `IPV6_RECVERR`) goes to the guest with its reason mapped (`RelayUnreachable`), not copied:
/// ICMPv6 codes (RFC 4443 §3.1) 0 no route and 6 reject route become no route, 2 beyond scope
/// (of the host's source, not the guest's) and 3 address unreachable become address
/// unreachable, 4 stays port unreachable, 1 prohibited and 5 source address failed policy
/// become administratively prohibited, and any other code address unreachable; ICMPv4 codes
/// (RFC 792, RFC 1122 §3.2.2.1) 0, 6 and 11 become network unreachable, 3 port, 9, 10 and 13
/// administratively prohibited, and the rest (fragmentation needed too: its MTU is not
/// carried) host unreachable. Other ICMP errors are dropped (counted). Flows expire after the
/// table's idle timeout (a ``LoopTimer``). Loop thread only.
///
/// Right after a request is sent, its socket is read once: a host reached through the host's
/// own namespaces (loopback, a veth pair) answers inside the `sendto` itself (the kernel runs
/// the receive path in the sender's context), and the reply then goes to the guest in the
/// same turn of the loop, without another `epoll_wait` and turn (``counters``'
/// `repliesReadAtSend`); otherwise that read finds nothing and the reply comes through epoll.
public final class HostEchoRelay {
  public private(set) var table: ICMPEchoFlowTable
  /// Why ping sockets cannot be used, once they were refused; nil while they work.
  public private(set) var unavailableReason: String?
  public private(set) var counters = HostEchoRelayCounters()

  private unowned let runtime: DirectStackRuntime
  private let loop: EventLoop
  private let logger: Logger
  private let timer: LoopTimer
  private var sockets: [UInt64: Int32] = [:]
  private var buffer = ReceiveBuffer(size: 65536)
  /// Replies read per readiness event, so that one socket cannot hold the loop.
  static let readsPerEvent = 16

  /// Gets ready and checks at once that the host allows ping sockets (one is opened and
  /// closed); if not, the stack is told to refuse echo requests to other hosts.
  public init(runtime: DirectStackRuntime, table: ICMPEchoFlowTable, logger: Logger)
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
    let probe = HostEchoRelay.openSocket(family: AF_INET)
    if probe >= 0 {
      close(probe)
    } else {
      refuse(errno: errno)
    }
  }

  /// Closes every flow's socket and the timer.
  public func shutdown() {
    for id in Array(sockets.keys) { closeSocket(id) }
    loop.unregister(timer.fileDescriptor)
  }

  /// Sockets open (one per flow).
  public var openSockets: Int { sockets.count }

  /// Sends the echo requests the last poll queued.
  public func drain(now: Instant) {
    for request in runtime.stack.takeRelayedEchoRequests() { send(request, now: now) }
  }

  // MARK: Sending

  private func send(_ request: RelayedEchoRequest, now: Instant) {
    let key = ICMPEchoFlowTable.Key(
      guest: request.guest, identifier: request.identifier, destination: request.destination)
    let use = table.use(key, hostDestination: request.hostDestination, now: now)
    if let evicted = use.evicted { closeSocket(evicted) }
    let family = HostSocketAddress.family(of: request.hostDestination)
    if use.created {
      let descriptor = HostEchoRelay.openSocket(family: family)
      guard descriptor >= 0 else {
        let code = errno
        table.remove(use.id)
        counters.socketFailures += 1
        if code == EACCES || code == EPERM { refuse(errno: code) }
        runtime.stack.refuseRelayedEcho(
          request, code: code == EACCES || code == EPERM ? .administrativelyProhibited : .host,
          now: now)
        return
      }
      // ICMP errors about the requests (a router's unreachable, or no neighbour answering in
      // the host's own network) come to the socket's error queue.
      if !SocketQueuedError.enable(on: descriptor, family: family) {
        counters.errorQueueUnavailable += 1
      }
      do {
        try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] events in
          if events & UInt32(EPOLLERR.rawValue) != 0 { readErrors(flow: use.id) }
          readReplies(flow: use.id)
        }
      } catch {
        close(descriptor)
        table.remove(use.id)
        counters.socketFailures += 1
        return
      }
      sockets[use.id] = descriptor
      counters.socketsOpened += 1
      timer.arm(at: table.nextDeadline)
    }
    guard let descriptor = sockets[use.id] else { return }
    // Type 8 (ICMPv6: 128), code 0; the kernel fills in the identifier and the checksum.
    var message: [UInt8] = [
      HostEchoRelay.requestType(family), 0, 0, 0, 0, 0, UInt8(request.sequence >> 8),
      UInt8(request.sequence & 0xFF),
    ]
    message += request.payload
    let target = HostSocketAddress(SocketAddress(request.hostDestination, 0))
    let sent = message.withUnsafeBytes { bytes in
      target.withSockaddr {
        sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1)
      }
    }
    if sent == message.count {
      counters.requestsSent += 1
      if readReplies(flow: use.id, limit: 1) > 0 { counters.repliesReadAtSend += 1 }
      return
    }
    let code = errno
    counters.sendFailures += 1
    logger.debug(
      "relay: ping \(request.hostDestination) failed: \(String(cString: strerror(code)))")
    if code == ENETUNREACH || code == EHOSTUNREACH || code == EACCES || code == EPERM {
      runtime.stack.refuseRelayedEcho(
        request,
        code: code == ENETUNREACH
          ? .network
          : code == EHOSTUNREACH
            ? .host
            : .administrativelyProhibited, now: now)
    }
  }

  // MARK: Receiving

  /// Reads up to `limit` datagrams from the flow's socket, passing its echo replies to the
  /// guest; returns how many replies were passed on.
  @discardableResult
  private func readReplies(flow id: UInt64, limit: Int = HostEchoRelay.readsPerEvent) -> Int {
    var replies = 0
    for _ in 0..<limit {
      guard let descriptor = sockets[id], let flow = table.flow(id) else { return replies }
      var source = HostSocketAddress()
      let count = buffer.withUnsafeMutableBytes { bytes in
        source.withMutableSockaddr {
          recvfrom(descriptor, bytes.baseAddress, bytes.count, 0, $0, $1)
        }
      }
      if count < 0 {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return replies }
        // An ICMP error about a request fails the read too (IP_RECVERR), before epoll reports
        // it when the read comes right after the send: its detail waits on the error queue.
        if readErrors(flow: id) == 0 { counters.receiveErrors += 1 }
        return replies
      }
      let from = source.socketAddress?.address
      let replyType: UInt8 = flow.hostDestination.isIPv4 ? 0 : 129
      // An echo reply (type 0, ICMPv6 129) from the address pinged; anything else is not for
      // the guest.
      guard count >= 8, buffer[0] == replyType, from == flow.hostDestination else {
        counters.repliesDropped += 1
        continue
      }
      let now = MonotonicClock.now()
      table.recordReply(id, now: now)
      counters.repliesReceived += 1
      let sequence = UInt16(buffer[6]) << 8 | UInt16(buffer[7])
      let payload = Array(buffer[8..<count])
      runtime.stack.sendRelayedEchoReply(
        from: flow.key.destination, to: flow.key.guest, identifier: flow.key.identifier,
        sequence: sequence, payload: payload.span, now: now)
      replies += 1
    }
    return replies
  }

  /// Passes the ICMP errors queued on a flow's socket to the guest as destination
  /// unreachable about its request (matched by the sequence number the error quotes); returns
  /// how many errors it took from the queue.
  @discardableResult
  private func readErrors(flow id: UInt64) -> Int {
    var taken = 0
    for _ in 0..<HostEchoRelay.readsPerEvent {
      guard let descriptor = sockets[id], let flow = table.flow(id),
        let error = SocketQueuedError.take(from: descriptor)
      else { return taken }
      taken += 1
      let code: RelayUnreachable?
      switch error.origin {
      case .icmp where error.icmpType == 3:
        // Fragmentation needed would need the next-hop MTU, which the quote rebuilt here does
        // not carry: the guest is told the host is unreachable instead of an MTU of 0.
        code = RelayUnreachable(ipv4Code: error.icmpCode) ?? .host
      case .icmp6 where error.icmpType == 1:
        // ICMPv6 destination unreachable (RFC 4443 §3.1).
        code = RelayUnreachable(ipv6Code: error.icmpCode) ?? .host
      case .local:
        code =
          error.errno == ENETUNREACH
          ? .network
          : error.errno == EHOSTUNREACH
            ? .host
            : error.errno == EACCES || error.errno == EPERM ? .administrativelyProhibited : nil
      default:
        code = nil
      }
      // The error quotes our echo request: type 8 (128), code 0, checksum, identifier,
      // sequence.
      let requestType = HostEchoRelay.requestType(
        HostSocketAddress.family(of: flow.hostDestination))
      guard let code, error.payload.count >= 8, error.payload[0] == requestType else {
        counters.errorsDropped += 1
        continue
      }
      counters.errorsRelayed += 1
      let sequence = UInt16(error.payload[6]) << 8 | UInt16(error.payload[7])
      runtime.stack.sendRelayedEchoError(
        code, guest: flow.key.guest, destination: flow.key.destination,
        identifier: flow.key.identifier, sequence: sequence, now: MonotonicClock.now())
    }
    return taken
  }

  // MARK: Flows and sockets

  private func expireFlows(now: Instant) {
    for id in table.expire(now: now) { closeSocket(id) }
    timer.arm(at: table.nextDeadline)
  }

  private func closeSocket(_ id: UInt64) {
    guard let descriptor = sockets.removeValue(forKey: id) else { return }
    loop.unregister(descriptor)
    close(descriptor)
  }

  /// Records and reports that the host refuses ping sockets, and has the stack refuse guests'
  /// echo requests to other hosts from now on.
  private func refuse(errno code: Int32) {
    guard unavailableReason == nil else { return }
    let range = HostEchoRelay.pingGroupRange() ?? "unreadable"
    unavailableReason =
      "ICMP sockets refused (\(String(cString: strerror(code)))): net.ipv4.ping_group_range is "
      + "'\(range)', netstackd's group is \(getgid())"
    logger.warning(
      "relay: \(unavailableReason!); guests' pings to other hosts are answered 'administratively "
        + "prohibited' (allow the group with sysctl net.ipv4.ping_group_range)")
    runtime.stack.setRelayEchoAvailable(false)
  }

  /// A non-blocking ICMP socket of `family` (`AF_INET`: ICMP, `AF_INET6`: ICMPv6), or -1
  /// with errno.
  private static func openSocket(family: Int32) -> Int32 {
    Glibc.socket(
      family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
      family == AF_INET ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6))
  }

  /// The echo request's type: 8 (RFC 792), 128 over IPv6 (RFC 4443 §4.1).
  private static func requestType(_ family: Int32) -> UInt8 {
    family == AF_INET ? 8 : 128
  }

  /// The sysctl's two numbers, as the kernel shows them (tabs made spaces).
  private static func pingGroupRange() -> String? {
    let descriptor = open("/proc/sys/net/ipv4/ping_group_range", O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: 64)
    let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count > 0 else { return nil }
    let text = String(decoding: bytes[0..<count], as: UTF8.self)
    return text.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\n" }).joined(
      separator: " ")
  }
}

/// What the host side of the ping relay did.
public struct HostEchoRelayCounters: Sendable, Equatable {
  public var socketsOpened: UInt64 = 0
  /// ICMP sockets that could not be opened (refused, or out of descriptors).
  public var socketFailures: UInt64 = 0
  public var requestsSent: UInt64 = 0
  public var sendFailures: UInt64 = 0
  public var repliesReceived: UInt64 = 0
  /// What arrived on a flow's socket that was no echo reply from the address pinged.
  public var repliesDropped: UInt64 = 0
  /// Replies read right after their request was sent, in the same turn (the destination
  /// answered within the `sendto`).
  public var repliesReadAtSend: UInt64 = 0
  public var receiveErrors: UInt64 = 0
  /// ICMP errors about guests' requests passed on to them as destination unreachable.
  public var errorsRelayed: UInt64 = 0
  /// Queued errors not passed on (time exceeded, or not about an echo request).
  public var errorsDropped: UInt64 = 0
  /// Sockets on which the kernel refused `IP_RECVERR` (their errors are not seen).
  public var errorQueueUnavailable: UInt64 = 0

  public init() {}

  /// Name and value of each counter.
  public var all: [(name: String, value: UInt64)] {
    [
      ("sockets_opened", socketsOpened), ("socket_failures", socketFailures),
      ("requests_sent", requestsSent), ("send_failures", sendFailures),
      ("replies_received", repliesReceived), ("replies_dropped", repliesDropped),
      ("replies_read_at_send", repliesReadAtSend),
      ("receive_errors", receiveErrors), ("errors_relayed", errorsRelayed),
      ("errors_dropped", errorsDropped), ("error_queue_unavailable", errorQueueUnavailable),
    ]
  }
}
