// Fuzz target: the HTTP service's handler (Sources/Applications/HTTPSession.swift,
// HTTPHeadScanner.swift, HTTPRequestHead.swift), fed by a client that sends anything.
//
// Input: byte 0 picks how the rest is cut into pieces (1 to 32 bytes each, from a sequence
// the byte seeds) and byte 1 how many bytes the output takes per call (unlimited, or 1 to
// 255); the rest is what the client sends.
// Checks: the handler never traps and never takes more than it is offered; cutting the same
// bytes into other pieces gives exactly the same responses (the incremental head scan agrees
// with a whole-head parse); every response starts with an HTTP/1.1 status line; nothing is
// written after the handler asked to close or reset; the head buffer never holds more than
// the limit; and once finished it has given back everything it charged to the budget.

import Applications
import NetCore

struct FuzzOutput: ConnectionOutput {
  var bytes: [UInt8] = []
  var room: Int?  // per call
  var limit = 1 << 20  // in all, so that /bytes/N stays small

  mutating func write(_ span: Span<UInt8>) -> Int {
    let taken = min(span.count, room ?? span.count, limit - bytes.count)
    for index in 0..<taken { bytes.append(span[index]) }
    return taken
  }
}

/// Runs a session over `input` cut into pieces; returns what it wrote.
func run(_ input: UnsafeBufferPointer<UInt8>, cut: UInt8, room: Int?) -> [UInt8] {
  let budget = MemoryBudget()
  let server = HTTPServer(platform: "fuzz", budget: budget)
  let now = Instant(nanoseconds: 1_000_000_000)
  var session = server.makeSession(now: now)
  var output = FuzzOutput(room: room)
  var state = UInt32(cut) | 1
  var offset = 0
  var stalled = 0
  while offset < input.count && session.disposition == .open && stalled < 64 {
    state = state &* 1_103_515_245 &+ 12345
    let length = min(Int(state >> 16) % 32 + 1, input.count - offset)
    let piece = UnsafeBufferPointer(rebasing: input[offset..<(offset + length)])
    let taken = session.receive(Span(_unsafeElements: piece), output: &output, now: now)
    expect(taken >= 0 && taken <= length, "took \(taken) of \(length)")
    expect(budget.used(for: .services) <= 16 * 1024 + 64 + 64 * 1024, "head buffer past the limit")
    offset += taken
    let written = output.bytes.count
    session.send(output: &output, now: now)
    stalled = taken == 0 && output.bytes.count == written ? stalled + 1 : 0
  }
  // What the client sent is over: let the response finish.
  if session.disposition == .open && offset == input.count {
    session.receiveEnd(output: &output, now: now)
  }
  var rounds = 0
  while session.disposition == .open && rounds < 10_000 && output.bytes.count < output.limit {
    let written = output.bytes.count
    session.send(output: &output, now: now)
    if output.bytes.count == written { break }
    rounds += 1
  }
  if session.disposition != .open {
    let written = output.bytes.count
    session.send(output: &output, now: now)
    expect(output.bytes.count == written, "wrote after asking to close")
  }
  session.finish()
  expect(budget.used == 0, "the session kept \(budget.used) bytes charged")
  return output.bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 2 else { return 0 }
  let input = UnsafeBufferPointer(rebasing: UnsafeBufferPointer(start: data, count: size)[2...])
  let room = data[1] == 0 ? nil : Int(data[1])
  let pieces = run(input, cut: data[0], room: room)
  let whole = run(input, cut: data[0] &+ 101, room: room)
  expect(pieces == whole, "responses differ with the input cut otherwise")
  if !pieces.isEmpty {
    expect(pieces.starts(with: Array("HTTP/1.1 ".utf8)), "output does not start with a status line")
  }
  return 0
}
