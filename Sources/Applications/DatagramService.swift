/// A UDP service netstack runs with its own handlers, whatever carries the datagrams: the
/// stack's loop (`UDPServiceHost`: netstackd's direct backend, the unikernel) or a host
/// socket (netstackd `--backend socket`). One case per service, so that a driver holds any of
/// them without an existential (Embedded Swift has none); the TCP services are ``Service``.
public enum DatagramService: DatagramHandler, Sendable {
  /// Echo (RFC 862, "UDP Based Echo Service").
  case echo(UDPEchoHandler)

  /// The service's name in reports.
  public var name: String {
    switch self {
    case .echo: "echo"
    }
  }

  public var port: UInt16 {
    switch self {
    case .echo(let handler): handler.port
    }
  }

  public mutating func receive(_ datagram: Datagram) -> Datagram? {
    switch self {
    case .echo(var handler):
      defer { self = .echo(handler) }
      return handler.receive(datagram)
    }
  }

  /// What the service counted, if it is echo.
  public var udpEchoCounters: UDPEchoCounters? {
    switch self {
    case .echo(let handler): handler.counters
    }
  }
}
