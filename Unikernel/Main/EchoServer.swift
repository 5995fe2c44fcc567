import NetCore
import TCP

/// TCP echo (RFC 862) on the stack's TCP layer, polled by the main loop: every byte received
/// goes back; at the client's end of stream the connection closes once all is sent.
public struct EchoServer {
  let listener: TCPListenerID
  var sessions: [EchoSession] = []

  public init(tcp: inout TCPLayer, port: UInt16 = 7) throws(TCPError) {
    listener = try tcp.listen(port: port, backlog: 64)
  }

  /// Accepts new connections and echoes what arrived on each.
  public mutating func run(_ tcp: inout TCPLayer, scratch: UnsafeMutableRawBufferPointer) {
    while let connection = tcp.accept(listener) {
      sessions.append(EchoSession(connection: connection))
    }
    var index = 0
    while index < sessions.count {
      if sessions[index].step(&tcp, scratch: scratch) {
        index += 1
      } else {
        sessions.remove(at: index)
      }
    }
  }
}

/// One echo connection and the bytes it has yet to send back.
struct EchoSession {
  let connection: TCPConnectionID
  var pending: [UInt8] = []

  /// Bytes held back at most; beyond that the receive window closes the client.
  static let limit = 64 * 1024

  /// False once the connection is closed.
  mutating func step(_ tcp: inout TCPLayer, scratch: UnsafeMutableRawBufferPointer) -> Bool {
    guard let state = tcp.connection(connection) else { return false }
    while true {
      if pending.count < Self.limit, let count = try? tcp.read(connection, into: scratch),
        count > 0
      {
        pending.append(contentsOf: scratch[0..<count])
      }
      guard !pending.isEmpty else { break }
      guard let written = try? tcp.write(connection, pending.span), written > 0 else { break }
      pending.removeFirst(written)
    }
    if pending.isEmpty && (state.isAtEndOfStream || state.error != nil) {
      tcp.close(connection)
      return false
    }
    return true
  }
}
