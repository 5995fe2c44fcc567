import NetCore

/// The echo service (RFC 862) on one TCP connection: every byte received is sent back, and
/// when the client has sent everything (FIN) and all of it went back, the connection closes.
///
/// It holds no buffer: bytes are taken only as fast as the send side takes them, so a client
/// that does not read its echo finds its own sending blocked by TCP's window.
public struct EchoSession: ConnectionHandler {
  public private(set) var disposition = ConnectionDisposition.open

  /// A session with nothing received yet.
  public init() {}

  public mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    output.write(bytes)
  }

  public mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    disposition = .close
  }

  public mutating func send<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {}

  public var nextDeadline: Instant? { nil }
  public mutating func timerExpired(now: Instant) {}
}
