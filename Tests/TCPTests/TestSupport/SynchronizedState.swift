import Testing

@testable import TCP

/// The synchronized states a passive connection can be brought to, for tests that check one
/// rule in each of them.
enum SynchronizedState: String, CaseIterable, Sendable, CustomStringConvertible {
  case established, finWait1, finWait2, closeWait, closing, lastAck

  var description: String { rawValue }

  var state: TCPState {
    switch self {
    case .established: .established
    case .finWait1: .finWait1
    case .finWait2: .finWait2
    case .closeWait: .closeWait
    case .closing: .closing
    case .lastAck: .lastAck
    }
  }

  /// Whether the peer may still send data (no FIN received from it).
  var peerMaySend: Bool {
    switch self {
    case .established, .finWait1, .finWait2: true
    default: false
    }
  }

  /// A harness with a passive connection in this state, every segment on the way checked.
  func harness(configuration: TCPConfiguration = TCPConfiguration()) -> Harness {
    var h = Harness.listening(configuration: configuration)
    h.establishPassive()
    switch self {
    case .established: break
    case .finWait1: h.enterFinWait1()
    case .finWait2: h.enterFinWait2()
    case .closeWait: h.enterCloseWait()
    case .closing: h.enterClosing()
    case .lastAck: h.enterLastAck()
    }
    return h
  }
}
