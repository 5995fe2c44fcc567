import Applications
import NetCore

/// The "hello" service's side of one connection, as a sans-IO handler: the client sends its
/// name on one line, the service answers `hello, NAME` and closes.
///
/// Against a hostile client: a line longer than ``maximumLineLength`` is answered with
/// `line too long` and the close; a client that has not sent its line ``lineTimeout`` after
/// connecting is reset. A client that closes without a newline is greeted by what it sent
/// (`hello, stranger` when that was nothing). Whatever comes after the line is discarded.
struct GreetingHandler: ConnectionHandler {
  /// The longest name taken, in bytes (without the line end).
  static let maximumLineLength = 256
  /// How long a client has to send its line.
  static let lineTimeout = Interval.seconds(10)

  private let counters: GreetingCounters
  /// The name so far.
  private var line: [UInt8] = []
  /// The answer, once the line is complete, and how much of it is written.
  private var answer: [UInt8]?
  private var written = 0
  private(set) var disposition = ConnectionDisposition.open
  private(set) var nextDeadline: Instant?

  init(now: Instant, counters: GreetingCounters) {
    self.counters = counters
    nextDeadline = now + GreetingHandler.lineTimeout
  }

  mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    guard answer == nil else { return bytes.count }  // after the line: discarded
    for index in 0..<bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\n") {
        greet()
        send(output: &output, now: now)
        return index + 1
      }
      guard line.count < GreetingHandler.maximumLineLength else {
        refuse()
        send(output: &output, now: now)
        return index + 1
      }
      line.append(byte)
    }
    return bytes.count
  }

  mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    guard answer == nil else { return }
    greet()
    send(output: &output, now: now)
  }

  mutating func send<Output: ConnectionOutput & ~Copyable>(output: inout Output, now: Instant) {
    guard let answer, disposition == .open else { return }
    while written < answer.count {
      let taken = output.write(answer.span.extracting(written..<answer.count))
      if taken == 0 { return }  // the output is full: the rest at the next send
      written += taken
    }
    disposition = .close
  }

  mutating func timerExpired(now: Instant) {
    guard answer == nil, let deadline = nextDeadline, now >= deadline else { return }
    counters.countTimedOut()
    nextDeadline = nil
    disposition = .abort
  }

  /// The answer to a whole line (without its `\r`, if the client sent one).
  private mutating func greet() {
    if line.last == UInt8(ascii: "\r") { line.removeLast() }
    let name = line.isEmpty ? Array("stranger".utf8) : line
    answer = Array("hello, ".utf8) + name + [UInt8(ascii: "\n")]
    nextDeadline = nil
    counters.countGreeted()
  }

  /// The answer to a line that is too long.
  private mutating func refuse() {
    answer = Array("line too long\n".utf8)
    nextDeadline = nil
    counters.countRefused()
  }
}
