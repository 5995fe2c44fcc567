import CLinuxShims
import DNS
import Glibc
import NetCore
import NetworkAPI

/// The DNS forwarder on Linux: a `DNSForwarder` whose upstream actions are carried out with
/// non-blocking host sockets on an ``EventLoop``, and whose name servers come from a
/// `resolv.conf` file, read again when it changes (``ResolvConfWatcher``, looked at on a guest's
/// query at most once a second).
///
/// The guest side is the caller's: it hands in the guests' queries (``receiveGuestUDP(_:from:to:)``
/// and the TCP calls) and carries out the `DNSGuestAction`s given to ``onGuestAction``
/// (answers to send, connections to close). Upstream, each try is a new socket of the server's
/// family (`AF_INET` or `AF_INET6`, so resolv.conf's IPv4 and IPv6 name servers are asked in
/// the file's order): UDP is `socket`, `bind` to the unspecified address, port 0 (a random port
/// from the kernel's ephemeral range, RFC 5452 §9.2), `connect` to the server (so the kernel
/// passes on only its datagrams and its ICMP errors) and `send`; TCP is a non-blocking
/// `connect`, then the query with its length. IPv6 link-local name servers are not asked (the
/// sockets take no interface); the log says so. What
/// arrives goes to the forwarder, which matches it. A socket that cannot be opened, a send or
/// connect that fails, an ICMP error and a TCP connection that ends early are reported as
/// failures (the forwarder goes on to the next server). The forwarder's deadlines are kept on
/// a ``LoopTimer`` of its own, so the loop's `deadline` stays the stack's.
///
/// Ids come from `SystemRandomNumberGenerator` (the kernel's `getrandom`). Loop thread only.
public final class HostDNSUpstream {
  public let resolvConfPath: String
  /// Called on the loop with everything that goes to a guest.
  public var onGuestAction: ((DNSGuestAction) -> Void)?
  public private(set) var forwarder: DNSForwarder<SystemRandomNumberGenerator>

  private let loop: EventLoop
  private let logger: Logger
  private let timer: LoopTimer
  private var watcher: ResolvConfWatcher
  private var sockets: [DNSUpstreamSocket: HostDNSSocket] = [:]
  /// Receive buffer: the largest UDP datagram, or a good piece of a TCP stream.
  private var buffer = ReceiveBuffer(size: 65536)
  /// Datagrams or reads handled per readiness event, so that one socket cannot hold the loop.
  static let readsPerEvent = 16

  /// Reads `resolvConfPath` (and logs what it found) and gets ready; nothing is sent until a
  /// guest asks.
  public init(
    loop: EventLoop, resolvConfPath: String,
    configuration: DNSForwarderConfiguration = DNSForwarderConfiguration(), logger: Logger
  ) throws(SystemError) {
    self.loop = loop
    self.resolvConfPath = resolvConfPath
    self.logger = logger
    forwarder = DNSForwarder(configuration: configuration, random: SystemRandomNumberGenerator())
    watcher = ResolvConfWatcher(path: resolvConfPath)
    timer = try LoopTimer()
    try loop.register(timer.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
      [unowned self] _ in
      timer.acknowledge()
      let now = MonotonicClock.now()
      perform(forwarder.poll(now: now), now: now)
    }
    reloadIfChanged(now: MonotonicClock.now())
  }

  /// Closes every upstream socket and the timer (queries still waiting get no answer).
  public func shutdown() {
    for socket in Array(sockets.keys) { closeSocket(socket) }
    loop.unregister(timer.fileDescriptor)
  }

  public var counters: DNSForwarderCounters { forwarder.counters }
  /// Upstream sockets open.
  public var openSockets: Int { sockets.count }

  // MARK: The guest side

  /// A UDP query from `guest` to the stack's DNS address `local`.
  public func receiveGuestUDP(_ bytes: Span<UInt8>, from guest: DNSEndpoint, to local: DNSEndpoint)
  {
    let now = MonotonicClock.now()
    reloadIfChanged(now: now)
    perform(forwarder.receiveGuestUDP(bytes, from: guest, to: local, now: now), now: now)
  }

  /// A guest opened a TCP connection to the DNS address.
  public func guestConnectionOpened(_ connection: DNSGuestConnection) {
    let now = MonotonicClock.now()
    perform(forwarder.guestConnectionOpened(connection, now: now), now: now)
  }

  /// Bytes a guest sent on its connection.
  public func receiveGuestTCP(_ bytes: Span<UInt8>, connection: DNSGuestConnection) {
    let now = MonotonicClock.now()
    reloadIfChanged(now: now)
    perform(forwarder.receiveGuestTCP(bytes, connection: connection, now: now), now: now)
  }

  /// The guest half-closed its connection.
  public func guestStreamEnded(_ connection: DNSGuestConnection) {
    let now = MonotonicClock.now()
    perform(forwarder.guestStreamEnded(connection, now: now), now: now)
  }

  /// The guest's connection is gone.
  public func guestConnectionClosed(_ connection: DNSGuestConnection) {
    perform(forwarder.guestConnectionClosed(connection), now: MonotonicClock.now())
  }

  // MARK: resolv.conf

  /// Gives the forwarder the file's name servers if it changed, and says what it found.
  private func reloadIfChanged(now: Instant) {
    guard let reading = watcher.check(now: now) else { return }
    let prefix = "dns: \(resolvConfPath)"
    switch reading {
    case .unreadable(let reason):
      forwarder.setServers([], timeout: nil, attempts: nil)
      logger.warning("\(prefix): cannot read it (\(reason)): no name servers, queries get SERVFAIL")
    case .read(let conf, let cut):
      let servers = conf.forwarderAddresses.map { DNSEndpoint($0, DNSEndpoint.serverPort) }
      forwarder.setServers(
        servers, timeout: conf.timeoutSeconds.map { .seconds(Int64($0)) }, attempts: conf.attempts)
      if cut {
        logger.warning("\(prefix): only its first \(ResolvConfWatcher.maximumFileSize) bytes read")
      }
      for item in conf.ignored { logger.info("\(prefix): ignored \(item)") }
      if conf.ignoredCount > conf.ignored.count {
        logger.info("\(prefix): ignored \(conf.ignoredCount - conf.ignored.count) more lines")
      }
      for server in conf.nameServers where server.forwarderAddress == nil {
        logger.warning(
          "\(prefix): name server \(server) not used: a link-local address needs an interface, "
            + "which the forwarder's sockets do not take")
      }
      if servers.isEmpty {
        logger.warning("\(prefix): no name servers: queries get SERVFAIL")
      } else {
        let list = servers.map { "\($0.address)" }.joined(separator: ", ")
        logger.info(
          "\(prefix): name servers \(list) (timeout \(forwarder.timeout.seconds) s, "
            + "\(forwarder.attempts) attempts)")
      }
    }
  }

  // MARK: Carrying out actions

  /// Carries out `actions` and what they lead to (a failure to open a socket is reported to the
  /// forwarder at once), then sets the timer to the forwarder's next deadline.
  private func perform(_ actions: [DNSForwarderAction], now: Instant) {
    var queue = actions
    var index = 0
    while index < queue.count {
      switch queue[index] {
      case .guest(let action): onGuestAction?(action)
      case .upstream(let action): queue += execute(action, now: now)
      }
      index += 1
    }
    timer.arm(at: forwarder.nextDeadline)
  }

  private func execute(_ action: DNSUpstreamAction, now: Instant) -> [DNSForwarderAction] {
    switch action {
    case .sendUDP(let socket, let server, let message):
      if let code = sendUDP(socket, to: server, message) {
        logger.debug("dns: query to \(server) over UDP failed: \(String(cString: strerror(code)))")
        return forwarder.upstreamFailed(socket: socket, now: now)
      }
      return []
    case .openTCP(let socket, let server, let bytes):
      if let code = openTCP(socket, to: server, bytes) {
        logger.debug("dns: query to \(server) over TCP failed: \(String(cString: strerror(code)))")
        return forwarder.upstreamFailed(socket: socket, now: now)
      }
      return []
    case .close(let socket):
      closeSocket(socket)
      return []
    }
  }

  /// Opens a socket of the server's family, binds it to port 0, connects and sends; the errno
  /// of what failed, or nil.
  private func sendUDP(_ socket: DNSUpstreamSocket, to server: DNSEndpoint, _ message: [UInt8])
    -> Int32?
  {
    let family = HostSocketAddress.family(of: server.address)
    let descriptor = Glibc.socket(
      family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0
    )
    guard descriptor >= 0 else { return errno }
    let unspecified: IPAddress = server.address.isIPv4 ? .v4(.any) : .v6(.unspecified)
    let any = HostSocketAddress(SocketAddress(unspecified, 0))
    let target = HostSocketAddress(SocketAddress(server.address, server.port))
    let ready =
      any.withSockaddr { bind(descriptor, $0, $1) } == 0
      && target.withSockaddr { connect(descriptor, $0, $1) } == 0
      && message.withUnsafeBytes {
        send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      } == message.count
    guard ready else {
      let code = errno
      close(descriptor)
      return code
    }
    do {
      try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        readUDP(socket)
      }
    } catch {
      close(descriptor)
      return error.errno
    }
    sockets[socket] = HostDNSSocket(descriptor: descriptor, kind: .udp)
    return nil
  }

  /// Opens a non-blocking TCP connection of the server's family; the bytes go out once it is
  /// up.
  private func openTCP(_ socket: DNSUpstreamSocket, to server: DNSEndpoint, _ bytes: [UInt8])
    -> Int32?
  {
    let descriptor = Glibc.socket(
      HostSocketAddress.family(of: server.address),
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return errno }
    let target = HostSocketAddress(SocketAddress(server.address, server.port))
    let result = target.withSockaddr { connect(descriptor, $0, $1) }
    if result != 0 && errno != EINPROGRESS {
      let code = errno
      close(descriptor)
      return code
    }
    do {
      try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue | EPOLLOUT.rawValue)) {
        [unowned self] events in
        tcpReady(socket, events: events)
      }
    } catch {
      close(descriptor)
      return error.errno
    }
    sockets[socket] = HostDNSSocket(descriptor: descriptor, kind: .tcp, output: bytes)
    return nil
  }

  private func closeSocket(_ socket: DNSUpstreamSocket) {
    guard let entry = sockets.removeValue(forKey: socket) else { return }
    loop.unregister(entry.descriptor)
    close(entry.descriptor)
  }

  /// Reports a failure of `socket` (with its reason at debug level).
  private func fail(_ socket: DNSUpstreamSocket, _ code: Int32, _ what: String) {
    logger.debug("dns: upstream \(what): \(code == 0 ? "closed" : String(cString: strerror(code)))")
    let now = MonotonicClock.now()
    perform(forwarder.upstreamFailed(socket: socket, now: now), now: now)
  }

  // MARK: Readiness

  private func readUDP(_ socket: DNSUpstreamSocket) {
    for _ in 0..<HostDNSUpstream.readsPerEvent {
      guard let entry = sockets[socket] else { return }
      var source = HostSocketAddress()
      let count = buffer.withUnsafeMutableBytes { bytes in
        source.withMutableSockaddr {
          recvfrom(entry.descriptor, bytes.baseAddress, bytes.count, 0, $0, $1)
        }
      }
      if count < 0 {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return }
        // An ICMP error for the connected socket (port or host unreachable).
        fail(socket, code, "UDP receive")
        return
      }
      // A connected socket gets datagrams from its server only; one of another family (never
      // seen) is dropped by the forwarder as from elsewhere.
      let from =
        source.socketAddress.map { DNSEndpoint($0.address, $0.port) }
        ?? DNSEndpoint(IPv4Address.any, 0)
      let datagram = Array(buffer[0..<count])
      let now = MonotonicClock.now()
      perform(
        forwarder.receiveUpstreamUDP(datagram.span, socket: socket, from: from, now: now),
        now: now)
    }
  }

  private func tcpReady(_ socket: DNSUpstreamSocket, events: UInt32) {
    guard var entry = sockets[socket] else { return }
    if !entry.connected {
      var failure: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(entry.descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
      if failure != 0 {
        fail(socket, failure, "TCP connect")
        return
      }
      guard events & UInt32(EPOLLOUT.rawValue | EPOLLIN.rawValue | EPOLLHUP.rawValue) != 0 else {
        return
      }
      entry.connected = true
    }
    if entry.written < entry.output.count {
      let (descriptor, written) = (entry.descriptor, entry.written)
      let count = entry.output.withUnsafeBytes {
        send(descriptor, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL))
      }
      if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
        fail(socket, errno, "TCP send")
        return
      }
      if count > 0 { entry.written += count }
      if entry.written == entry.output.count {
        entry.output = []
        entry.written = 0
        try? loop.modify(entry.descriptor, events: UInt32(EPOLLIN.rawValue))
      }
    }
    sockets[socket] = entry
    guard events & UInt32(EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else {
      return
    }
    for _ in 0..<HostDNSUpstream.readsPerEvent {
      guard let current = sockets[socket] else { return }
      let count = buffer.withUnsafeMutableBytes {
        recv(current.descriptor, $0.baseAddress, $0.count, 0)
      }
      if count < 0 {
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return }
        fail(socket, code, "TCP receive")
        return
      }
      if count == 0 {
        fail(socket, 0, "TCP connection")
        return
      }
      let piece = Array(buffer[0..<count])
      let now = MonotonicClock.now()
      perform(forwarder.receiveUpstreamTCP(piece.span, socket: socket, now: now), now: now)
    }
  }
}
