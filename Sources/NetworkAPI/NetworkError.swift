/// Why a network operation failed: the same errors whatever stack is underneath (the
/// project's TCP and UDP, or the host's sockets, whose errno values map onto these).
public enum NetworkError: Error, Equatable, Sendable {
  /// Nothing listens at the destination (RST to the SYN; ECONNREFUSED).
  case connectionRefused
  /// The peer reset the connection (ECONNRESET, EPIPE).
  case connectionReset
  /// The peer stopped answering (ETIMEDOUT).
  case timedOut
  /// The port is taken (EADDRINUSE).
  case addressInUse
  /// No route to the destination (EHOSTUNREACH, ENETUNREACH).
  case noRoute
  /// A table or queue is full (EMFILE, ENOBUFS, too many connections).
  case resourcesExhausted
  /// The handle was closed, or the stack is shutting down.
  case closed
  /// The message does not fit (EMSGSIZE).
  case messageTooLong
  /// Anything else, with the operation and a description.
  case other(String)
}

extension NetworkError: CustomStringConvertible {
  /// What went wrong, as a short phrase for a log line.
  public var description: String {
    switch self {
    case .connectionRefused: "connection refused"
    case .connectionReset: "connection reset by peer"
    case .timedOut: "connection timed out"
    case .addressInUse: "address already in use"
    case .noRoute: "no route to host"
    case .resourcesExhausted: "resources exhausted"
    case .closed: "closed"
    case .messageTooLong: "message too long"
    case .other(let text): text
    }
  }
}
