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
public final class SocketNetworkStack: NetworkStack, @unchecked Sendable {
  /// The loop the sockets are registered with, and the services run on.
  public let loop: EventLoop
  /// The local address services listen on (`netstackd --ip`, default 127.0.0.1).
  public let bindAddress: IPv4Address
  var readers = WaiterTable<Int32>()
  var writers = WaiterTable<Int32>()

  /// A stack of host sockets on `loop`, listening on `bindAddress`.
  public init(loop: EventLoop, bindAddress: IPv4Address) {
    self.loop = loop
    self.bindAddress = bindAddress
  }

  public var stackDescription: String { "the host's own sockets (\(bindAddress))" }

  // MARK: Descriptors on the loop

  /// Registers a new socket with the loop; readiness wakes its waiters.
  func register(_ descriptor: Int32) throws(NetworkError) {
    let events =
      UInt32(EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue) | UInt32(EPOLLET.rawValue)
    do {
      try loop.register(descriptor, events: events) { [unowned self] ready in
        let failure = UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue)
        if ready & (UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue) | failure) != 0 {
          readers.resumeAll(descriptor)
        }
        if ready & (UInt32(EPOLLOUT.rawValue) | failure) != 0 { writers.resumeAll(descriptor) }
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

  /// A socket address for `address`:`port`.
  static func socketAddress(_ address: IPv4Address, _ port: UInt16) -> sockaddr_in {
    var result = sockaddr_in()
    result.sin_family = sa_family_t(AF_INET)
    result.sin_port = port.bigEndian
    result.sin_addr.s_addr = address.rawValue.bigEndian
    return result
  }

  /// The IPv4 address of `address`: the socket backend speaks IPv4 only so far (issue 13), and
  /// refuses an IPv6 destination with a clear error.
  static func ipv4Address(of address: SocketAddress) throws(NetworkError) -> IPv4Address {
    guard case .v4(let ipv4) = address.address else {
      throw .other("the socket backend does not support IPv6 yet (\(address))")
    }
    return ipv4
  }

  /// The address and port in a `sockaddr_in`.
  static func endpoint(_ address: sockaddr_in) -> SocketAddress {
    SocketAddress(
      IPv4Address(rawValue: UInt32(bigEndian: address.sin_addr.s_addr)),
      UInt16(bigEndian: address.sin_port))
  }

  static func localEndpoint(_ descriptor: Int32) -> SocketAddress {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return endpoint(address)
  }

  static func remoteEndpoint(_ descriptor: Int32) -> SocketAddress {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(descriptor, $0, &length) }
    }
    return endpoint(address)
  }

  /// Creates a socket, optionally bound to `port` on ``bindAddress``.
  func makeSocket(type: Int32, bindPort: UInt16?) throws(NetworkError) -> Int32 {
    let descriptor = socket(
      AF_INET, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw NetworkError(errno: errno) }
    if let bindPort {
      var one: Int32 = 1
      setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
      var address = SocketNetworkStack.socketAddress(bindAddress, bindPort)
      let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      if result != 0 {
        let code = errno
        Glibc.close(descriptor)
        throw NetworkError(errno: code)
      }
    }
    return descriptor
  }

  // MARK: NetworkStack

  public func listen(port: UInt16, backlog: Int) async throws(NetworkError) -> SocketTCPListener {
    try await loop.run { () throws(NetworkError) -> SocketTCPListener in
      let descriptor = try makeSocket(type: Int32(SOCK_STREAM.rawValue), bindPort: port)
      guard Glibc.listen(descriptor, Int32(min(backlog, 65535))) == 0 else {
        let code = errno
        Glibc.close(descriptor)
        throw NetworkError(errno: code)
      }
      try register(descriptor)
      return SocketTCPListener(stack: self, descriptor: descriptor, localPort: port)
    }
  }

  public func connect(to address: SocketAddress) async throws(NetworkError) -> SocketTCPConnection {
    try await loop.run { () async throws(NetworkError) -> SocketTCPConnection in
      var target = SocketNetworkStack.socketAddress(
        try SocketNetworkStack.ipv4Address(of: address), address.port)
      let descriptor = try makeSocket(type: Int32(SOCK_STREAM.rawValue), bindPort: nil)
      try register(descriptor)
      let result = withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
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
      return SocketTCPConnection(stack: self, descriptor: descriptor)
    }
  }

  public func bindUDP(port: UInt16) async throws(NetworkError) -> SocketUDPSocket {
    try await loop.run { () throws(NetworkError) -> SocketUDPSocket in
      let descriptor = try makeSocket(type: Int32(SOCK_DGRAM.rawValue), bindPort: port)
      try register(descriptor)
      return SocketUDPSocket(
        stack: self, descriptor: descriptor,
        localPort: SocketNetworkStack.localEndpoint(descriptor).port)
    }
  }
}

/// A listening socket.
public struct SocketTCPListener: TCPListenerHandle {
  let stack: SocketNetworkStack
  let descriptor: Int32
  public let localPort: UInt16

  public func accept() async throws(NetworkError) -> SocketTCPConnection {
    try await stack.loop.run { () async throws(NetworkError) -> SocketTCPConnection in
      while true {
        let connection = netstack_accept(descriptor)
        if connection >= 0 {
          var one: Int32 = 1
          setsockopt(
            connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
          try stack.register(connection)
          return SocketTCPConnection(stack: stack, descriptor: connection)
        }
        let code = -connection
        switch code {
        case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED: break
        case EBADF, EINVAL: throw .closed
        default: throw NetworkError(errno: code)
        }
        await stack.readers.wait(descriptor)
      }
    }
  }

  public func close() async {
    await stack.loop.run { () in stack.release(descriptor) }
  }
}

/// A connected TCP socket.
public struct SocketTCPConnection: TCPConnectionHandle {
  let stack: SocketNetworkStack
  let descriptor: Int32
  public let localAddress: SocketAddress
  public let remoteAddress: SocketAddress

  init(stack: SocketNetworkStack, descriptor: Int32) {
    self.stack = stack
    self.descriptor = descriptor
    localAddress = SocketNetworkStack.localEndpoint(descriptor)
    remoteAddress = SocketNetworkStack.remoteEndpoint(descriptor)
  }

  public func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int {
    try await stack.loop.run { () async throws(NetworkError) -> Int in
      while true {
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

  public func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await stack.loop.run { () async throws(NetworkError) in
      var offset = 0
      while offset < bytes.count {
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
      guard shutdown(descriptor, Int32(SHUT_WR)) == 0 else { throw NetworkError(errno: errno) }
    }
  }

  public func setNoDelay(_ noDelay: Bool) async throws(NetworkError) {
    try await stack.loop.run { () throws(NetworkError) in
      var value: Int32 = noDelay ? 1 : 0
      guard
        setsockopt(
          descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, socklen_t(MemoryLayout<Int32>.size))
          == 0
      else { throw NetworkError(errno: errno) }
    }
  }

  public func close() async {
    await stack.loop.run { () in stack.release(descriptor) }
  }

  public func abort() async {
    await stack.loop.run { () in
      // SO_LINGER with a zero timeout makes close(2) send RST.
      var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
      setsockopt(
        descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
      stack.release(descriptor)
    }
  }
}

/// A bound UDP socket.
public struct SocketUDPSocket: UDPSocketHandle {
  let stack: SocketNetworkStack
  let descriptor: Int32
  public let localPort: UInt16

  public func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) {
    try await stack.loop.run {
      () async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) in
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
          withUnsafeMutablePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
              recvfrom(descriptor, bytes.baseAddress, bytes.count, 0, $0, &length)
            }
          }
        }
        if count >= 0 { return (Array(buffer[0..<count]), SocketNetworkStack.endpoint(source)) }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.readers.wait(descriptor)
      }
    }
  }

  public func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError) {
    try await stack.loop.run { () async throws(NetworkError) in
      var target = SocketNetworkStack.socketAddress(
        try SocketNetworkStack.ipv4Address(of: destination), destination.port)
      while true {
        let count = payload.withUnsafeBytes { bytes in
          withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
              sendto(
                descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0,
                socklen_t(MemoryLayout<sockaddr_in>.size))
            }
          }
        }
        if count >= 0 { return }
        let code = errno
        guard code == EAGAIN || code == EWOULDBLOCK || code == EINTR else {
          throw NetworkError(errno: code)
        }
        await stack.writers.wait(descriptor)
      }
    }
  }

  public func close() async {
    await stack.loop.run { () in stack.release(descriptor) }
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
