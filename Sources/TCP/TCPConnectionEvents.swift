/// What happened to a connection that its owner (the TCP layer, and through it the
/// application) should react to; collected until taken.
public struct TCPConnectionEvents: OptionSet, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// The handshake completed (SYN-SENT or SYN-RECEIVED → ESTABLISHED).
  public static let established = TCPConnectionEvents(rawValue: 1 << 0)
  /// Data (or the peer's FIN) can be read.
  public static let readable = TCPConnectionEvents(rawValue: 1 << 1)
  /// Send buffer space opened up.
  public static let writable = TCPConnectionEvents(rawValue: 1 << 2)
  /// The connection reached CLOSED or TIME-WAIT, or failed; its owner should finish it.
  public static let closed = TCPConnectionEvents(rawValue: 1 << 3)
}
