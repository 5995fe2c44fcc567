import NetCore
import TCP

/// One end of a two-way byte-exact transfer on a `TCPLayer`: writes a seeded pattern, reads
/// and checks the peer's, half-closes when all is written and closes when the peer's stream
/// has ended (NetSimulation's `TCPTransfer`, on a bare layer).
struct StreamTransfer {
  let id: TCPConnectionID
  let toSend: Int
  let toReceive: Int
  /// Which pattern this end writes and which it expects.
  let sendSide: UInt64
  let receiveSide: UInt64
  var sent = 0
  var received = 0
  var shutDown = false
  var closed = false
  var failure: String?

  /// The byte at `position` of the stream `side` writes.
  static func byte(at position: Int, side: UInt64) -> UInt8 {
    var mixed = UInt64(position) &* 0x9E37_79B9_7F4A_7C15 ^ side &* 0xBF58_476D_1CE4_E5B9
    mixed ^= mixed >> 29
    return UInt8(truncatingIfNeeded: mixed)
  }

  /// Writes what fits, reads what arrived, closes when both directions are done.
  mutating func pump(_ tcp: inout TCPLayer, now: Instant) {
    guard !closed, failure == nil, let state = tcp.state(id) else { return }
    if let error = tcp.error(id) {
      failure = "connection failed: \(error) in \(state.name)"
      return
    }
    while sent < toSend && state.isSynchronized {
      let length = min(16_384, toSend - sent)
      let chunk = (0..<length).map { StreamTransfer.byte(at: sent + $0, side: sendSide) }
      guard let written = try? tcp.write(id, chunk.span), written > 0 else { break }
      sent += written
    }
    if sent == toSend && !shutDown && state.isSynchronized {
      try? tcp.shutdownWrite(id)
      shutDown = true
    }
    var scratch = [UInt8](repeating: 0, count: 65_536)
    while true {
      let count = scratch.withUnsafeMutableBytes { buffer in
        (try? tcp.read(id, into: buffer, now: now)) ?? 0
      }
      if count == 0 { break }
      for index in 0..<count
      where scratch[index] != StreamTransfer.byte(at: received + index, side: receiveSide) {
        failure = "byte \(received + index) differs"
        return
      }
      received += count
    }
    if tcp.isAtEndOfStream(id) && shutDown {
      if received != toReceive { failure = "stream ended after \(received) of \(toReceive)" }
      tcp.close(id)
      closed = true
    }
  }
}
