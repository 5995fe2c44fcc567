/// A service netstack serves, by the name `netstackd --serve` gives it, with its usual port;
/// and ``defaults``, the one list of services that netstackd (its default `--serve`) and the
/// unikernel both serve, so that the two cannot drift: HTTP on 80, echo on TCP and UDP 7
/// (RFC 862), discard on 9 (RFC 863), chargen on 19 (RFC 864).
public enum ServiceKind: String, CaseIterable, Sendable {
  case http
  case echo
  case discard
  case chargen

  /// The port it is served on unless told otherwise.
  public var defaultPort: UInt16 {
    switch self {
    case .http: 80
    case .echo: 7
    case .discard: 9
    case .chargen: 19
    }
  }

  /// Every service on its usual port, in this order: what netstackd and the unikernel serve
  /// by default.
  public static let defaults: [(kind: ServiceKind, port: UInt16)] = allCases.map {
    ($0, $0.defaultPort)
  }

  /// The service's TCP side; `http` makes the HTTP server (called for HTTP only).
  public func tcpService(http: () -> HTTPServer) -> Service {
    switch self {
    case .http: .http(http())
    case .echo: .echo
    case .discard: .discard
    case .chargen: .chargen
    }
  }

  /// The service's UDP side on `port`, for the one that answers over UDP too (echo); nil for
  /// the others.
  public func udpService(port: UInt16) -> DatagramService? {
    switch self {
    case .echo: .echo(UDPEchoHandler(port: port))
    case .http, .discard, .chargen: nil
    }
  }

  /// `http:80,echo:7`, as `--serve` takes it; `none` for no services.
  public static func describe(_ entries: [(kind: ServiceKind, port: UInt16)]) -> String {
    guard !entries.isEmpty else { return "none" }
    var text = ""
    for (kind, port) in entries {
      if !text.isEmpty { text += "," }
      text += "\(kind.rawValue):\(port)"
    }
    return text
  }
}
