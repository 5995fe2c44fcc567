import NetCore

/// A service's side of one TCP connection as a state machine with no I/O (ARCHITECTURE.md
/// §12): bytes in, bytes out, close. It is written once and driven by whatever carries the
/// connection: the stack's own loop over its TCP layer (netstackd's direct backend and the
/// unikernel, `TCPServiceHost`), or a task over host sockets (`--backend socket`).
///
/// The driver calls ``send(output:now:)`` when there is room to send, ``receive(_:output:now:)``
/// with bytes that arrived, ``receiveEnd(output:now:)`` once when the peer's stream ends (FIN),
/// and ``timerExpired(now:)`` when ``nextDeadline`` passes; after each call it does what
/// ``disposition`` asks. A handler never blocks and never reads a clock.
public protocol ConnectionHandler {
  /// Takes bytes that arrived and returns how many it took; it may answer at once through
  /// `output`. Bytes it does not take stay with the transport (back-pressure: the peer's
  /// window closes) and are offered again later.
  mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int

  /// The peer sent everything it will send (its FIN), and every byte of it was taken.
  mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(output: inout Output, now: Instant)

  /// There is room to send: write what is pending until `output` takes fewer bytes than it
  /// was offered or nothing is left.
  mutating func send<Output: ConnectionOutput & ~Copyable>(output: inout Output, now: Instant)

  /// What the driver should do with the connection now.
  var disposition: ConnectionDisposition { get }

  /// When ``timerExpired(now:)`` is next due, if ever.
  var nextDeadline: Instant? { get }

  /// A deadline passed (an idle or request timeout): the handler decides what follows; the
  /// driver then calls ``send(output:now:)`` (for an answer the handler may have prepared)
  /// and looks at ``disposition``.
  mutating func timerExpired(now: Instant)

  /// The connection is over (closed, reset or failed): give back what the handler holds. The
  /// driver calls it once, last.
  mutating func finish()
}

extension ConnectionHandler {
  /// Nothing to give back.
  public mutating func finish() {}
}

/// Where a ``ConnectionHandler`` writes: the connection's send buffer, or a driver's buffer in
/// front of a socket.
public protocol ConnectionOutput: ~Copyable {
  /// Queues bytes to send and returns how many were taken: fewer than offered when the
  /// buffer is full (the rest must be offered again at the next ``ConnectionHandler/send(output:now:)``).
  mutating func write(_ bytes: Span<UInt8>) -> Int

  /// Queues bytes that will not change (a pattern, a file's contents) and returns how many
  /// were taken, as ``write(_:)`` does; an output that can keep the array itself (a TCP
  /// connection's send buffer) does so instead of copying it.
  mutating func write(holding bytes: ArraySlice<UInt8>) -> Int
}

extension ConnectionOutput where Self: ~Copyable {
  /// Copies the bytes, as ``write(_:)`` does.
  public mutating func write(holding bytes: ArraySlice<UInt8>) -> Int {
    write(bytes.span)
  }
}

/// What a handler wants done with its connection.
public enum ConnectionDisposition: Equatable, Sendable {
  /// Keep going.
  case open
  /// Everything the handler will send has been written: close (FIN after it, RFC 9293
  /// §3.10.4), and the handler is done.
  case close
  /// Reset the connection now (RFC 9293 §3.10.5 ABORT), and the handler is done.
  case abort
}
