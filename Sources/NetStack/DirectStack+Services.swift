import Applications
import TCP
import UDP

extension DirectStack {
  /// Starts the service `kind` on `port` as netstackd's direct backend and the unikernel both
  /// do: its TCP side (``TCPServiceHost``) and, for a service that answers over UDP too
  /// (echo), its UDP side (``UDPServiceHost``) on the same port. `http` makes the HTTP server
  /// (called for HTTP only).
  public mutating func startService(
    _ kind: ServiceKind, port: UInt16, http: () -> HTTPServer
  ) throws(ServiceStartError) {
    do {
      try startService(kind.tcpService(http: http), port: port)
    } catch {
      throw .tcp(error)
    }
    guard let udpService = kind.udpService(port: port) else { return }
    do {
      try startUDPService(udpService)
    } catch {
      throw .udp(error)
    }
  }
}

/// Why a service could not start: its TCP port or its UDP port could not be taken.
public enum ServiceStartError: Error, Equatable, CustomStringConvertible {
  case tcp(TCPError)
  case udp(UDPError)

  public var description: String {
    switch self {
    case .tcp(let error): "tcp: \(error)"
    case .udp(let error): "udp: \(error)"
    }
  }
}
