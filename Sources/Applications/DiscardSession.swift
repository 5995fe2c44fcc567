import NetCore

/// The discard service (RFC 863) on one TCP connection: everything received is thrown away;
/// the connection closes when the client closes its side.
public struct DiscardSession: ConnectionHandler {
  public private(set) var disposition = ConnectionDisposition.open

  /// A session with nothing received yet.
  public init() {}

  public mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    bytes.count
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
