import CLinuxShims
import Glibc
import NetCore
import NetworkAPI

/// The application API (`NetworkStack`) on the host kernel's own sockets: MirageOS's socket
/// stack, for developing a service on the host before running it on the Swift stack.
///
/// Every socket is non-blocking and registered with the same ``EventLoop`` the services run
/// on (edge-triggered epoll); a call tries its system call first and suspends only on
/// `EAGAIN`, until epoll reports the descriptor ready.
///
/// Both families: a listener or UDP socket is one socket per bind address, IPv6 ones with
/// `IPV6_V6ONLY` (RFC 3493 §5.3), rather than one dual-stack socket on `::`, so that each
/// family binds its own chosen address and peers are reported as what they are (no
/// IPv4-mapped `::ffff:a.b.c.d`). Connections go out over the family of their destination.
public final class SocketNetworkStack: NetworkStack, @unchecked Sendable {
  /// The loop the sockets are registered with, and the services run on.
  public let loop: EventLoop
  /// The local addresses services listen on (`netstackd --ip` and `--ip6`, default 127.0.0.1
  /// and ::1), each family on its own sockets.
  public let bindAddresses: [IPAddress]
  var readers = WaiterTable<Int32>()
  var writers = WaiterTable<Int32>()

  /// A stack of host sockets on `loop`, listening on each of `bindAddresses`.
  public init(loop: EventLoop, bindAddresses: [IPAddress]) {
    self.loop = loop
    self.bindAddresses = bindAddresses
  }

  /// A stack of host sockets on `loop`, listening on the IPv4 `bindAddress` only.
  public convenience init(loop: EventLoop, bindAddress: IPv4Address) {
    self.init(loop: loop, bindAddresses: [.v4(bindAddress)])
  }

  public var stackDescription: String {
    "the host's own sockets (\(bindAddresses.map { "\($0)" }.joined(separator: ", ")))"
  }

  /// Whether the host has `address`: a UDP socket can be bound to it (an IPv6 loopback is
  /// missing where IPv6 is disabled).
  public static func hostHas(_ address: IPAddress) -> Bool {
    let descriptor = socket(
      HostSocketAddress.family(of: address),
      Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return false }
    defer { Glibc.close(descriptor) }
    let local = HostSocketAddress(SocketAddress(address, 0))
    return local.withSockaddr { Glibc.bind(descriptor, $0, $1) } == 0
  }

  // MARK: Descriptors on the loop

  /// Registers a new socket with the loop; readiness wakes the waiters of `key` (the socket
  /// itself, or the first socket of a listener or UDP socket bound to several addresses).
  func register(_ descriptor: Int32, wakes key: Int32? = nil) throws(NetworkError) {
    let key = key ?? descriptor
    let events =
      UInt32(EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue) | UInt32(EPOLLET.rawValue)
    do {
      try loop.register(descriptor, events: events) { [unowned self] ready in
        let failure = UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue)
        if ready & (UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue) | failure) != 0 {
          readers.resumeAll(key)
        }
        if ready & (UInt32(EPOLLOUT.rawValue) | failure) != 0 { writers.resumeAll(key) }
      }
    } catch {
      throw .other("\(error)")
    }
  }

  /// Unregisters and closes a socket, waking anyone still waiting on it.
  func release(_ descriptor: Int32) {
    loop.unregister(descriptor)
    Glibc.close(descriptor)
    readers.resumeAll(descriptor)
    writers.resumeAll(descriptor)
  }

  /// Releases the sockets of one listener or UDP socket (its first is the waiters' key).
  func release(_ descriptors: [Int32]) {
    for descriptor in descriptors.reversed() { release(descriptor) }
  }

  /// Releases the sockets a handle owns, unless a copy of the handle already has.
  func release(_ owned: SocketDescriptors) {
    release(owned.take())
  }

  /// An IPv4 socket address for `address`:`port` (the host relays' sockets, IPv4 only).
  static func socketAddress(_ address: IPv4Address, _ port: UInt16) -> sockaddr_in {
    var result = sockaddr_in()
    result.sin_family = sa_family_t(AF_INET)
    result.sin_port = port.bigEndian
    result.sin_addr.s_addr = address.rawValue.bigEndian
    return result
  }

  static func localEndpoint(_ descriptor: Int32) -> SocketAddress? {
    var address = HostSocketAddress()
    guard address.withMutableSockaddr({ getsockname(descriptor, $0, $1) }) == 0 else {
      return nil
    }
    return address.socketAddress
  }

  static func remoteEndpoint(_ descriptor: Int32) -> SocketAddress? {
    var address = HostSocketAddress()
    guard address.withMutableSockaddr({ getpeername(descriptor, $0, $1) }) == 0 else {
      return nil
    }
    return address.socketAddress
  }

  /// Creates a socket of `address`'s family, bound to it when `bind` is set (IPv6 ones to IPv6
  /// only, RFC 3493 §5.3).
  func makeSocket(type: Int32, family: Int32, bindTo local: SocketAddress?) throws(NetworkError)
    -> Int32
  {
    let descriptor = socket(
      family, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw NetworkError(errno: errno) }
    if let local {
      var one: Int32 = 1
      setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
      if family == AF_INET6 {
        setsockopt(
          descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
      }
      let result = HostSocketAddress(local).withSockaddr { Glibc.bind(descriptor, $0, $1) }
      if result != 0 {
        let code = errno
        Glibc.close(descriptor)
        throw NetworkError(errno: code)
      }
    }
    return descriptor
  }

  /// One socket of `type` on `port` of every bind address; with port 0, the port the first
  /// got, on all. Registered with the loop, all waking the first's waiters.
  func makeBoundSockets(type: Int32, port: UInt16, listening backlog: Int?)
    throws(NetworkError) -> [Int32]
  {
    var descriptors: [Int32] = []
    var port = port
    do throws(NetworkError) {
      for address in bindAddresses {
        let descriptor = try makeSocket(
          type: type, family: HostSocketAddress.family(of: address),
          bindTo: SocketAddress(address, port))
        if let backlog, Glibc.listen(descriptor, Int32(min(backlog, 65535))) != 0 {
          let code = errno
          Glibc.close(descriptor)
          throw NetworkError(errno: code)
        }
        try register(descriptor, wakes: descriptors.first)
        descriptors.append(descriptor)
        if port == 0 { port = SocketNetworkStack.localEndpoint(descriptor)?.port ?? 0 }
      }
    } catch {
      release(descriptors)
      throw error
    }
    guard !descriptors.isEmpty else { throw .other("the socket backend has no address to bind") }
    return descriptors
  }

  /// Which bind address sends to `destination`: of its family, a loopback one for a loopback
  /// destination and another for any other (RFC 6724 §5, rule 2: the matching scope), and
  /// among those the one sharing the longest prefix with it (rule 8). So an answer to `::1`
  /// leaves from `::1` and one to a peer on fd77::/64 from fd77::2: a client's connected UDP
  /// socket takes an answer only from the address it sent to. Nil when none is of its family.
  func sourceIndex(for destination: IPAddress) -> Int? {
    var best: (index: Int, sameScope: Bool, length: Int)?
    for (index, address) in bindAddresses.enumerated() {
      let length: Int
      let sameScope: Bool
      switch (address, destination) {
      case (.v4(let ours), .v4(let theirs)):
        length = (ours.rawValue ^ theirs.rawValue).leadingZeroBitCount
        sameScope = ours.isLoopback == theirs.isLoopback
      case (.v6(let ours), .v6(let theirs)):
        length = ours.commonPrefixLength(with: theirs)
        sameScope = ours.isLoopback == theirs.isLoopback
      default:
        continue
      }
      let better =
        best.map { sameScope != $0.sameScope ? sameScope : length > $0.length } ?? true
      if better { best = (index, sameScope, length) }
    }
    return best?.index
  }

  // MARK: NetworkStack

  public func listen(port: UInt16, backlog: Int) async throws(NetworkError) -> SocketTCPListener {
    try await loop.run { () throws(NetworkError) -> SocketTCPListener in
      try listenImmediately(port: port, backlog: backlog)
    }
  }

  public func connect(to address: SocketAddress) async throws(NetworkError) -> SocketTCPConnection {
    try await loop.run { () async throws(NetworkError) -> SocketTCPConnection in
      let descriptor = try makeSocket(
        type: Int32(SOCK_STREAM.rawValue), family: HostSocketAddress.family(of: address.address),
        bindTo: nil)
      try register(descriptor)
      let result = HostSocketAddress(address).withSockaddr { Glibc.connect(descriptor, $0, $1) }
      if result != 0 && errno != EINPROGRESS {
        let code = errno
        release(descriptor)
        throw NetworkError(errno: code)
      }
      if result != 0 {
        // Wait for the handshake, then read its outcome (connect(2), "EINPROGRESS").
        await writers.wait(descriptor)
        var failure: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
        if failure != 0 {
          release(descriptor)
          throw NetworkError(errno: failure)
        }
      }
      return SocketTCPConnection(stack: self, descriptor: descriptor, remote: address)
    }
  }

  public func bindUDP(port: UInt16) async throws(NetworkError) -> SocketUDPSocket {
    try await loop.run { () throws(NetworkError) -> SocketUDPSocket in
      try bindUDPImmediately(port: port)
    }
  }
}

/// A listening socket: one per bind address, accepted from in turn.
public struct SocketTCPListener: TCPListenerHandle {
  /// How long `accept` waits before trying again when the host is out of descriptors or
  /// memory.
  static let restAfterExhaustion = Duration.milliseconds(100)
  let stack: SocketNetworkStack
  /// The sockets, one per bind address; the first is the key its waiters wait on.
  let sockets: SocketDescriptors
  public let localPort: UInt16

  init(stack: SocketNetworkStack, descriptors: [Int32], localPort: UInt16) {
    self.stack = stack
    sockets = SocketDescriptors(descriptors)
    self.localPort = localPort
  }

  public func accept() async throws(NetworkError) -> SocketTCPConnection {
    try await stack.loop.run { () async throws(NetworkError) -> SocketTCPConnection in
      while true {
        let descriptors = sockets.open
        guard let key = descriptors.first else { throw .closed }
        for descriptor in descriptors {
          let connection = netstack_accept(descriptor)
          if connection >= 0 {
            var one: Int32 = 1
            setsockopt(
              connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one,
              socklen_t(MemoryLayout<Int32>.size))
            do throws(NetworkError) {
              try stack.register(connection)
            } catch {
              Glibc.close(connection)
              throw error
            }
            return SocketTCPConnection(stack: stack, descriptor: connection, remote: nil)
          }
          let code = -connection
          switch code {
          case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED: break
          case EBADF, EINVAL: throw .closed
          case EMFILE, ENFILE, ENOBUFS, ENOMEM:
            // Out of descriptors or memory: the client waits in the backlog while the
            // listener rests (it stays readable, and retrying at once would spin the loop).
            try? await Task.sleep(for: SocketTCPListener.restAfterExhaustion)
          default: throw NetworkError(errno: code)
          }
        }
        await stack.readers.wait(key)
      }
    }
  }

  public func close() async {
    await stack.loop.run { () in stack.release(sockets) }
  }
}

/// A connected TCP socket. Its copies share the descriptor, which the first close or abort
/// of any of them releases (`SocketDescriptors`): later calls never reach its number.
public struct SocketTCPConnection: TCPConnectionHandle {
  let stack: SocketNetworkStack
  /// The socket, until the connection is closed or aborted.
  let socket: SocketDescriptors
  public let localAddress: SocketAddress
  public let remoteAddress: SocketAddress

  /// The socket's descriptor, or -1 once the connection is closed or aborted.
  var descriptor: Int32 { socket.first ?? -1 }

  /// The connection on `descriptor`; `remote` stands in for a peer the kernel no longer
  /// names (one that reset at once).
  init(stack: SocketNetworkStack, descriptor: Int32, remote: SocketAddress?) {
    let nowhere = SocketAddress(IPv4Address(0, 0, 0, 0), 0)
    self.stack = stack
    socket = SocketDescriptors([descriptor])
    localAddress = SocketNetworkStack.localEndpoint(descriptor) ?? nowhere
    remoteAddress = SocketNetworkStack.remoteEndpoint(descriptor) ?? remote ?? nowhere
  }

  public func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int {
    try await stack.loop.run { () async throws(NetworkError) -> Int in
      while true {
        guard let descriptor = socket.first else { throw .closed }
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count >= 0 { return count }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.readers.wait(descriptor)
      }
    }
  }

  /// The kernel's socket cannot lend its buffer: the bytes are looked at with `MSG_PEEK` (up
  /// to `peekLimit`), and what `body` took is then read off into the same scratch buffer.
  public func read(inPlace body: (Span<UInt8>) -> Int) async throws(NetworkError) -> Int {
    try await stack.loop.run { () async throws(NetworkError) -> Int in
      var scratch = [UInt8](repeating: 0, count: SocketTCPConnection.peekLimit)
      while true {
        guard let descriptor = socket.first else { throw .closed }
        let count = scratch.withUnsafeMutableBytes {
          recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_PEEK))
        }
        if count == 0 { return 0 }
        if count > 0 {
          let taken = scratch.withUnsafeBufferPointer {
            body(Span(_unsafeElements: $0).extracting(0..<count))
          }
          precondition(taken >= 0 && taken <= count)
          guard taken > 0 else { return 0 }
          // The bytes are there (peeked): this read takes exactly them.
          let dropped = scratch.withUnsafeMutableBytes {
            recv(descriptor, $0.baseAddress, taken, 0)
          }
          guard dropped == taken else { throw NetworkError(errno: dropped < 0 ? errno : EIO) }
          return taken
        }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.readers.wait(descriptor)
      }
    }
  }

  /// The most bytes ``read(inPlace:)`` looks at in one call.
  static let peekLimit = 64 * 1024

  public func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await stack.loop.run { () async throws(NetworkError) in
      var offset = 0
      while offset < bytes.count {
        guard let descriptor = socket.first else { throw .closed }
        let count = bytes.withUnsafeBytes {
          send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
        }
        if count >= 0 {
          offset += count
          continue
        }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.writers.wait(descriptor)
      }
    }
  }

  public func shutdownWrite() async throws(NetworkError) {
    try await stack.loop.run { () throws(NetworkError) in
      guard let descriptor = socket.first else { throw .closed }
      guard shutdown(descriptor, Int32(SHUT_WR)) == 0 else { throw NetworkError(errno: errno) }
    }
  }

  public func setNoDelay(_ noDelay: Bool) async throws(NetworkError) {
    try await stack.loop.run { () throws(NetworkError) in
      guard let descriptor = socket.first else { throw .closed }
      var value: Int32 = noDelay ? 1 : 0
      guard
        setsockopt(
          descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, socklen_t(MemoryLayout<Int32>.size))
          == 0
      else { throw NetworkError(errno: errno) }
    }
  }

  /// Closes the socket (FIN); does nothing once any copy has closed or aborted it.
  public func close() async {
    await stack.loop.run { () in stack.release(socket) }
  }

  /// Resets the connection (RST); does nothing once any copy has closed or aborted it.
  public func abort() async {
    await stack.loop.run { () in
      guard let descriptor = socket.first else { return }
      // SO_LINGER with a zero timeout makes close(2) send RST.
      var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
      setsockopt(
        descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
      stack.release(socket)
    }
  }
}

/// A bound UDP socket: one per bind address; datagrams come in on any, and go out from the
/// one of the destination's family.
public struct SocketUDPSocket: UDPSocketHandle {
  let stack: SocketNetworkStack
  /// The sockets, one per bind address; the first is the key its waiters wait on.
  let sockets: SocketDescriptors
  public let localPort: UInt16

  init(stack: SocketNetworkStack, descriptors: [Int32], localPort: UInt16) {
    self.stack = stack
    sockets = SocketDescriptors(descriptors)
    self.localPort = localPort
  }

  /// The sockets' descriptors, none once the socket is closed.
  var descriptors: [Int32] { sockets.open }

  public func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) {
    try await stack.loop.run {
      () async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) in
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let descriptors = sockets.open
        guard let key = descriptors.first else { throw .closed }
        for descriptor in descriptors {
          var source = HostSocketAddress()
          let count = buffer.withUnsafeMutableBytes { bytes in
            source.withMutableSockaddr {
              recvfrom(descriptor, bytes.baseAddress, bytes.count, 0, $0, $1)
            }
          }
          if count >= 0, let from = source.socketAddress { return (Array(buffer[0..<count]), from) }
          if count >= 0 { continue }  // from a family other than IPv4 and IPv6: not ours
          let code = errno
          guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
            throw NetworkError(errno: code)
          }
        }
        await stack.readers.wait(key)
      }
    }
  }

  public func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError) {
    try await stack.loop.run { () async throws(NetworkError) in
      guard let index = stack.sourceIndex(for: destination.address) else {
        throw .other(
          "the socket backend has no \(destination.address.isIPv4 ? "IPv4" : "IPv6") address bound")
      }
      let target = HostSocketAddress(destination)
      while true {
        let descriptors = sockets.open
        guard index < descriptors.count else { throw .closed }
        let descriptor = descriptors[index]
        let count = payload.withUnsafeBytes { bytes in
          target.withSockaddr {
            sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, $1)
          }
        }
        if count >= 0 { return }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.writers.wait(descriptors[0])
      }
    }
  }

  public func close() async {
    await stack.loop.run { () in stack.release(sockets) }
  }
}

extension NetworkError {
  /// The application-facing error for an errno value.
  init(errno code: Int32) {
    switch code {
    case ECONNREFUSED: self = .connectionRefused
    case ECONNRESET, EPIPE: self = .connectionReset
    case ETIMEDOUT: self = .timedOut
    case EADDRINUSE: self = .addressInUse
    case EHOSTUNREACH, ENETUNREACH: self = .noRoute
    case EMFILE, ENFILE, ENOBUFS, ENOMEM: self = .resourcesExhausted
    case EMSGSIZE: self = .messageTooLong
    case EBADF: self = .closed
    default: self = .other(String(cString: strerror(code)))
    }
  }
}
