/// Why a TCP operation failed or a connection ended abnormally.
public enum TCPError: Error, Equatable, Sendable {
  /// The peer answered the SYN with RST: nothing listens there.
  case connectionRefused
  /// The peer reset an established connection.
  case connectionReset
  /// Retransmissions (or keepalive probes) went unanswered.
  case timedOut
  /// The connection was aborted locally.
  case aborted
  /// The handle names no open connection or listener.
  case invalidHandle
  /// A listener already uses the port, or no ephemeral port is free for the destination.
  case addressInUse
  /// The connection table (or a listener's backlog) is full.
  case tooManyConnections
  /// The stack's memory budget admits no new connection now.
  case noMemory
  /// No route to the destination.
  case noRoute
  /// The connection can no longer send (FIN queued or sent).
  case notConnected
}

extension TCPError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .connectionRefused: "connection refused"
    case .connectionReset: "connection reset by peer"
    case .timedOut: "connection timed out"
    case .aborted: "connection aborted"
    case .invalidHandle: "no such connection"
    case .addressInUse: "address already in use"
    case .tooManyConnections: "too many connections"
    case .noMemory: "out of memory for a new connection"
    case .noRoute: "no route to host"
    case .notConnected: "not connected for sending"
    }
  }
}
