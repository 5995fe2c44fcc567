import Glibc
import NetCore
import NetworkAPI

extension SocketNetworkStack {
  /// Listens on `port` of every bind address now, without suspending: for a caller already on
  /// the loop's thread that must answer at once whether the port could be had (the control
  /// socket's `publish add`). `listen(2)` with `backlog`.
  public func listenImmediately(port: UInt16, backlog: Int) throws(NetworkError)
    -> SocketTCPListener
  {
    let descriptors = try makeBoundSockets(
      type: Int32(SOCK_STREAM.rawValue), port: port, listening: backlog)
    return SocketTCPListener(
      stack: self, descriptors: descriptors,
      localPort: SocketNetworkStack.localEndpoint(descriptors[0])?.port ?? port)
  }

  /// Binds UDP sockets to `port` of every bind address now, without suspending (see
  /// ``listenImmediately(port:backlog:)``).
  public func bindUDPImmediately(port: UInt16) throws(NetworkError) -> SocketUDPSocket {
    let descriptors = try makeBoundSockets(
      type: Int32(SOCK_DGRAM.rawValue), port: port, listening: nil)
    return SocketUDPSocket(
      stack: self, descriptors: descriptors,
      localPort: SocketNetworkStack.localEndpoint(descriptors[0])?.port ?? port)
  }
}
