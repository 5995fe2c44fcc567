import Applications
import NetCore

/// What a handler wrote, with as much room per call as the test allows (`room`, or all).
struct TestOutput: ConnectionOutput {
  var bytes: [UInt8] = []
  /// Bytes the next writes may take in all; nil for no limit.
  var room: Int?

  mutating func write(_ span: Span<UInt8>) -> Int {
    let taken = min(span.count, room ?? span.count)
    for index in 0..<taken { bytes.append(span[index]) }
    if let room { self.room = room - taken }
    return taken
  }

  var text: String { String(decoding: bytes, as: UTF8.self) }
}

extension ConnectionHandler {
  /// Offers `text` (as bytes) once; returns how many bytes were taken.
  mutating func receive(_ text: String, output: inout TestOutput, now: Instant) -> Int {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer {
      receive(Span(_unsafeElements: $0), output: &output, now: now)
    }
  }
}
