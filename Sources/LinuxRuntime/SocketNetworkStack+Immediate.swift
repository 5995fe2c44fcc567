import Glibc
import NetCore
import NetworkAPI

extension SocketNetworkStack {
  /// Listens on `port` of ``bindAddress`` now, without suspending: for a caller already on
  /// the loop's thread that must answer at once whether the port could be had (the control
  /// socket's `publish add`). `listen(2)` with `backlog`.
  public func listenImmediately(port: UInt16, backlog: Int) throws(NetworkError)
    -> SocketTCPListener
  {
    let descriptor = try makeSocket(type: Int32(SOCK_STREAM.rawValue), bindPort: port)
    guard Glibc.listen(descriptor, Int32(min(backlog, 65535))) == 0 else {
      let code = errno
      Glibc.close(descriptor)
      throw NetworkError(errno: code)
    }
    try registerOrClose(descriptor)
    return SocketTCPListener(stack: self, descriptor: descriptor, localPort: port)
  }

  /// Binds a UDP socket to `port` of ``bindAddress`` now, without suspending (see
  /// ``listenImmediately(port:backlog:)``).
  public func bindUDPImmediately(port: UInt16) throws(NetworkError) -> SocketUDPSocket {
    let descriptor = try makeSocket(type: Int32(SOCK_DGRAM.rawValue), bindPort: port)
    try registerOrClose(descriptor)
    return SocketUDPSocket(
      stack: self, descriptor: descriptor,
      localPort: SocketNetworkStack.localEndpoint(descriptor).port)
  }

  private func registerOrClose(_ descriptor: Int32) throws(NetworkError) {
    do {
      try register(descriptor)
    } catch {
      Glibc.close(descriptor)
      throw error
    }
  }
}
