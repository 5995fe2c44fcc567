/// The states of a TCP connection, named as RFC 9293 §3.3.2 names them.
public enum TCPState: Equatable, Sendable {
  case closed
  case listen
  case synSent
  case synReceived
  case established
  case finWait1
  case finWait2
  case closeWait
  case closing
  case lastAck
  case timeWait

  /// Whether the handshake is complete (RFC 9293's "synchronized states").
  public var isSynchronized: Bool {
    switch self {
    case .closed, .listen, .synSent, .synReceived: false
    default: true
    }
  }

  /// Whether the peer may still send data (no FIN received).
  public var canReceiveData: Bool {
    switch self {
    case .synReceived, .established, .finWait1, .finWait2: true
    default: false
    }
  }

  /// Whether the application may still queue data to send (no FIN queued).
  public var canSendData: Bool {
    switch self {
    case .synSent, .synReceived, .established, .closeWait: true
    default: false
    }
  }

  /// The RFC's name: `ESTABLISHED`, `FIN-WAIT-1`, ...
  public var name: String {
    switch self {
    case .closed: "CLOSED"
    case .listen: "LISTEN"
    case .synSent: "SYN-SENT"
    case .synReceived: "SYN-RECEIVED"
    case .established: "ESTABLISHED"
    case .finWait1: "FIN-WAIT-1"
    case .finWait2: "FIN-WAIT-2"
    case .closeWait: "CLOSE-WAIT"
    case .closing: "CLOSING"
    case .lastAck: "LAST-ACK"
    case .timeWait: "TIME-WAIT"
    }
  }
}

extension TCPState: CustomStringConvertible {
  public var description: String { name }
}
