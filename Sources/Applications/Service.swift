import NetCore

/// A TCP service netstack runs with its own handlers, whatever carries the connections: the
/// stack's loop (`TCPServiceHost`: netstackd's direct backend, the unikernel) or host sockets
/// (netstackd `--backend socket`).
public enum Service {
  /// HTTP/1.1 (``HTTPServer``).
  case http(HTTPServer)
  /// Echo (RFC 862).
  case echo
  /// Discard (RFC 863).
  case discard
  /// Character generator (RFC 864).
  case chargen

  /// The service's name in reports: `http`, `echo`, ...
  public var name: String {
    switch self {
    case .http: "http"
    case .echo: "echo"
    case .discard: "discard"
    case .chargen: "chargen"
    }
  }

  /// The handler of a connection accepted `now`.
  public func makeHandler(now: Instant) -> ServiceHandler {
    switch self {
    case .http(let server): .http(server.makeSession(now: now))
    case .echo: .echo(EchoSession())
    case .discard: .discard(DiscardSession())
    case .chargen: .chargen(ChargenSession())
    }
  }
}

/// The handler of one connection of a ``Service``: one case per service, so that a driver
/// holds any of them without an existential (Embedded Swift has none).
public enum ServiceHandler: ConnectionHandler {
  /// An HTTP connection.
  case http(HTTPSession)
  /// An echo connection.
  case echo(EchoSession)
  /// A discard connection.
  case discard(DiscardSession)
  /// A chargen connection.
  case chargen(ChargenSession)
  /// No handler (taken out while one runs, so that it is not shared).
  case none

  public mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    switch self {
    case .http(var handler):
      self = .none
      defer { self = .http(handler) }
      return handler.receive(bytes, output: &output, now: now)
    case .echo(var handler):
      self = .none
      defer { self = .echo(handler) }
      return handler.receive(bytes, output: &output, now: now)
    case .discard(var handler):
      self = .none
      defer { self = .discard(handler) }
      return handler.receive(bytes, output: &output, now: now)
    case .chargen(var handler):
      self = .none
      defer { self = .chargen(handler) }
      return handler.receive(bytes, output: &output, now: now)
    case .none:
      return 0
    }
  }

  public mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    switch self {
    case .http(var handler):
      self = .none
      handler.receiveEnd(output: &output, now: now)
      self = .http(handler)
    case .echo(var handler):
      handler.receiveEnd(output: &output, now: now)
      self = .echo(handler)
    case .discard(var handler):
      handler.receiveEnd(output: &output, now: now)
      self = .discard(handler)
    case .chargen(var handler):
      handler.receiveEnd(output: &output, now: now)
      self = .chargen(handler)
    case .none:
      break
    }
  }

  public mutating func send<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    switch self {
    case .http(var handler):
      self = .none
      handler.send(output: &output, now: now)
      self = .http(handler)
    case .echo(var handler):
      handler.send(output: &output, now: now)
      self = .echo(handler)
    case .discard(var handler):
      handler.send(output: &output, now: now)
      self = .discard(handler)
    case .chargen(var handler):
      handler.send(output: &output, now: now)
      self = .chargen(handler)
    case .none:
      break
    }
  }

  public var disposition: ConnectionDisposition {
    switch self {
    case .http(let handler): handler.disposition
    case .echo(let handler): handler.disposition
    case .discard(let handler): handler.disposition
    case .chargen(let handler): handler.disposition
    case .none: .abort
    }
  }

  public var nextDeadline: Instant? {
    switch self {
    case .http(let handler): handler.nextDeadline
    case .echo(let handler): handler.nextDeadline
    case .discard(let handler): handler.nextDeadline
    case .chargen(let handler): handler.nextDeadline
    case .none: nil
    }
  }

  public mutating func timerExpired(now: Instant) {
    switch self {
    case .http(var handler):
      self = .none
      handler.timerExpired(now: now)
      self = .http(handler)
    case .echo, .discard, .chargen, .none:
      break
    }
  }

  public mutating func finish() {
    switch self {
    case .http(var handler):
      self = .none
      handler.finish()
      self = .http(handler)
    case .echo, .discard, .chargen, .none:
      break
    }
  }
}
