import NetCore

/// A network stack as an application sees it: TCP listen, accept, connect, read, write,
/// shutdown, close; UDP bind, send, receive. Written once against this protocol, a service
/// runs on the project's own stack (over TAP, a Unix socket, netfront) or on the host's
/// kernel sockets during development: MirageOS's promise, with Swift generics in place of
/// functors.
///
/// Handles are `Sendable` and every call is `async`: an implementation owns its stack on one
/// event loop and suspends callers until their operation can complete.
public protocol NetworkStack: Sendable {
  /// A listening TCP port of this stack.
  associatedtype Listener: TCPListenerHandle where Listener.Connection == Connection
  /// A TCP connection of this stack.
  associatedtype Connection: TCPConnectionHandle
  /// A bound UDP socket of this stack.
  associatedtype Datagrams: UDPSocketHandle

  /// Listens for TCP connections on `port` of every local address.
  func listen(port: UInt16, backlog: Int) async throws(NetworkError) -> Listener

  /// Opens a TCP connection to `address`.
  func connect(to address: SocketAddress) async throws(NetworkError) -> Connection

  /// Binds a UDP socket to `port` (0 for any free port).
  func bindUDP(port: UInt16) async throws(NetworkError) -> Datagrams

  /// A short name for logs and pages: "netstack (direct, tap0)", "host sockets".
  var stackDescription: String { get }
}

/// A listening TCP port.
public protocol TCPListenerHandle: Sendable {
  /// The connections the listener hands out.
  associatedtype Connection: TCPConnectionHandle

  /// The port listened on.
  var localPort: UInt16 { get }

  /// Waits for the next connection.
  func accept() async throws(NetworkError) -> Connection

  /// Stops listening; connections not yet accepted are reset.
  func close() async
}

/// One TCP connection.
public protocol TCPConnectionHandle: Sendable {
  /// Our end: the stack's address and port.
  var localAddress: SocketAddress { get }
  /// The peer's end.
  var remoteAddress: SocketAddress { get }

  /// Reads up to `buffer.count` bytes into the front of `buffer`, waiting until at least one
  /// byte is there; returns how many, and 0 at the end of the peer's stream.
  func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int

  /// Waits until at least one byte is there to read (or the peer's stream ended), then hands
  /// the bytes to `body` where they are, without copying them into a buffer of the caller's
  /// (on the project's stack they are the connection's receive buffer, lent as smoltcp's
  /// `recv(|buf| ...)` lends it). `body` returns how many bytes it took (it may be called again
  /// with more while it takes all it is given); what it leaves stays to be read. Returns how
  /// many bytes were taken: 0 at the end of the peer's stream, or when `body` took none. The
  /// bytes cannot escape `body` (a `Span`). For code that only looks at the bytes or passes
  /// them on; ``read(into:)`` is for code that wants them in its own buffer.
  func read(inPlace body: (Span<UInt8>) -> Int) async throws(NetworkError) -> Int

  /// Writes all of `bytes`, waiting for buffer space as needed.
  func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError)

  /// Writes all of `bytes`, as `write(_:)` does, for bytes the caller
  /// will not change (a file's contents, a generated pattern): the project's stack keeps the
  /// array in its send buffer instead of copying it there (copy-on-write makes that free while
  /// nobody changes it), so the bytes are copied once, into their segments. A caller that
  /// refills one buffer should use `write(_:)`: its next change would
  /// copy the array the stack holds.
  func write(holding bytes: ArraySlice<UInt8>) async throws(NetworkError)

  /// Sends FIN after what was written; reading goes on (half-close).
  func shutdownWrite() async throws(NetworkError)

  /// Turns Nagle's algorithm off (`true`, like `TCP_NODELAY`) or back on: whether a small
  /// write goes out at once even while earlier data is unacknowledged.
  func setNoDelay(_ noDelay: Bool) async throws(NetworkError)

  /// Closes the connection and gives up the handle (FIN, or RST if unread data is left).
  /// The handle and its copies are given up by the first `close` or `abort` of any of them;
  /// a later one is harmless: it never reaches another connection (nor, on the host's
  /// sockets, another socket that took the descriptor's number).
  func close() async

  /// Resets the connection and gives up the handle (see ``close()`` for calls after it).
  func abort() async
}

extension TCPConnectionHandle {
  /// Writes all of `bytes`.
  public func write(_ bytes: [UInt8]) async throws(NetworkError) {
    try await write(bytes[...])
  }

  /// Copies, as `write(_:)` does: for stacks that cannot hold arrays
  /// (the host's sockets copy into the kernel).
  public func write(holding bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await write(bytes)
  }
}

/// A bound UDP socket.
public protocol UDPSocketHandle: Sendable {
  /// The port bound (the one chosen, when 0 was asked for).
  var localPort: UInt16 { get }

  /// The address and port its datagrams leave from when they are not the stack's own address
  /// and ``localPort``: a published port's flow that shows the guest its client (nil
  /// otherwise, the default).
  var chosenSource: SocketAddress? { get }

  /// Waits for the next datagram.
  func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress)

  /// Sends one datagram.
  func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError)

  /// Unbinds the socket.
  func close() async
}

extension UDPSocketHandle {
  /// None: datagrams leave from the stack's own address and ``localPort``.
  public var chosenSource: SocketAddress? { nil }
}

/// An IP address of either family and a port.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
  /// The IPv4 or IPv6 address.
  public var address: IPAddress
  /// The TCP or UDP port.
  public var port: UInt16

  /// The address and port `address:port`.
  public init(_ address: IPAddress, _ port: UInt16) {
    self.address = address
    self.port = port
  }

  /// An IPv4 address and port.
  public init(_ address: IPv4Address, _ port: UInt16) {
    self.init(.v4(address), port)
  }

  /// `a.b.c.d:port`, or `[v6]:port` (RFC 5952 §6).
  public var description: String {
    address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
  }
}
