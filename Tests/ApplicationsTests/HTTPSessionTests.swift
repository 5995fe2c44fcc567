import NetCore
import Testing

@testable import Applications

/// The HTTP handler on its own, no transport (RFC 9112): requests in, responses out, the
/// limits and timeouts of ``HTTPServerLimits`` (nginx's defaults), memory given back.
@Suite struct HTTPSessionTests {
  static let start = Instant(nanoseconds: 1_000_000_000)

  static func server(
    limits: HTTPServerLimits = HTTPServerLimits(), files: HTTPFiles? = nil,
    budget: MemoryBudget = MemoryBudget()
  ) -> HTTPServer {
    HTTPServer(platform: "a test", files: files, limits: limits, budget: budget)
  }

  /// Splits responses: (status line, headers text, body).
  static func responses(_ bytes: [UInt8]) -> [(status: String, head: String, body: [UInt8])] {
    var result: [(String, String, [UInt8])] = []
    var rest = bytes[...]
    while let end = rest.indices.first(where: { rest[$0...].starts(with: [13, 10, 13, 10]) }) {
      let head = String(decoding: rest[..<end], as: UTF8.self)
      let length =
        head.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }
        .flatMap { Int($0.dropFirst("Content-Length: ".count)) } ?? 0
      let bodyEnd = min(end + 4 + length, rest.endIndex)
      result.append(
        (String(head.split(separator: "\r\n")[0]), head, Array(rest[(end + 4)..<bodyEnd])))
      rest = rest[bodyEnd...]
    }
    return result
  }

  @Test func aWholeRequestIsAnsweredAtOnce() {
    let server = Self.server()
    var session = server.makeSession(now: Self.start)
    var output = TestOutput()
    let request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    #expect(session.receive(request, output: &output, now: Self.start) == request.utf8.count)
    let answers = Self.responses(output.bytes)
    #expect(answers.count == 1)
    #expect(answers.first?.status == "HTTP/1.1 200 OK")
    #expect(answers.first?.body == server.page)
    #expect(session.disposition == .open)
    // Kept alive: the idle timeout runs from the end of the response.
    #expect(session.nextDeadline == Self.start + .seconds(75))
    #expect(server.counters.requests == 1)
  }

  @Test func pipelinedRequestsAreTakenOneAtATime() {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput()
    let first = "GET /bytes/10 HTTP/1.1\r\n\r\n"
    let both = first + "HEAD /nothing HTTP/1.1\r\nConnection: close\r\n\r\n"
    let taken = session.receive(both, output: &output, now: Self.start)
    #expect(taken == first.utf8.count)
    let rest = String(decoding: Array(both.utf8)[taken...], as: UTF8.self)
    #expect(session.receive(rest, output: &output, now: Self.start) == rest.utf8.count)
    let answers = Self.responses(output.bytes)
    #expect(answers.map(\.status) == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"])
    #expect(answers[0].body == Array("netstack: ".utf8))
    #expect(answers[1].head.contains("Connection: close"))
    #expect(answers[1].body == [], "HEAD sends no body")
    #expect(session.disposition == .close)
  }

  @Test func aResponseThatDoesNotFitWaitsForRoom() {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput(room: 100)
    _ = session.receive("GET /bytes/300000 HTTP/1.1\r\n\r\n", output: &output, now: Self.start)
    #expect(output.bytes.count == 100)
    // More input waits while the response is being sent.
    #expect(session.receive("GET / HTTP/1.1\r\n\r\n", output: &output, now: Self.start) == 0)
    while output.bytes.count < 400_000 {
      let before = output.bytes.count
      output.room = 65536
      session.send(output: &output, now: Self.start)
      if output.bytes.count == before { break }
    }
    let answers = Self.responses(output.bytes)
    #expect(answers.count == 1)
    #expect(answers.first?.body.count == 300_000)
    #expect(
      answers.first?.body
        == Array(
          HTTPContent.pattern().prefix(262_152) + HTTPContent.pattern().prefix(300_000 - 262_152)))
  }

  /// A head sent one byte at a time is found by scanning each byte once, gathered in a buffer
  /// charged to the budget, and the charge is given back once it is parsed.
  @Test func aHeadThatTricklesInAByteAtATime() {
    let budget = MemoryBudget()
    var session = Self.server(budget: budget).makeSession(now: Self.start)
    var output = TestOutput()
    let request =
      "GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent: " + String(repeating: "a", count: 8000)
      + "\r\n\r\n"
    var now = Self.start
    for byte in request.utf8 {
      now = now + .milliseconds(1)
      #expect(session.receive(String(UnicodeScalar(byte)), output: &output, now: now) == 1)
      if output.bytes.isEmpty { #expect(budget.used(for: .services) <= 16 * 1024 + 64) }
    }
    #expect(Self.responses(output.bytes).first?.status == "HTTP/1.1 200 OK")
    #expect(budget.used(for: .services) == 0)
  }

  @Test func aHeadLongerThanTheLimitIsRefused() {
    let server = Self.server()
    var session = server.makeSession(now: Self.start)
    var output = TestOutput()
    let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 17000)
    #expect(session.receive(long, output: &output, now: Self.start) == long.utf8.count)
    let answers = Self.responses(output.bytes)
    #expect(answers.first?.status == "HTTP/1.1 431 Request Header Fields Too Large")
    #expect(answers.first?.head.contains("Connection: close") == true)
    #expect(session.disposition == .close)
    #expect(server.counters.headsTooLarge == 1)
  }

  @Test func aHeadThatTakesTooLongIsAnswered408() {
    let server = Self.server()
    var session = server.makeSession(now: Self.start)
    var output = TestOutput()
    _ = session.receive("GET / HT", output: &output, now: Self.start + .seconds(5))
    #expect(session.nextDeadline == Self.start + .seconds(65))
    session.timerExpired(now: Self.start + .seconds(64))
    #expect(output.bytes.isEmpty)
    session.timerExpired(now: Self.start + .seconds(65))
    session.send(output: &output, now: Self.start + .seconds(65))
    #expect(Self.responses(output.bytes).first?.status == "HTTP/1.1 408 Request Timeout")
    #expect(session.disposition == .close)
    #expect(server.counters.headerTimeouts == 1)
  }

  @Test func aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() {
    var session = Self.server().makeSession(now: Self.start)
    #expect(session.nextDeadline == Self.start + .seconds(60))
    session.timerExpired(now: Self.start + .seconds(60))
    #expect(session.disposition == .close)
  }

  @Test func anIdleKeptAliveConnectionIsClosed() {
    let server = Self.server()
    var session = server.makeSession(now: Self.start)
    var output = TestOutput()
    _ = session.receive("GET / HTTP/1.1\r\n\r\n", output: &output, now: Self.start)
    session.timerExpired(now: Self.start + .seconds(75))
    #expect(session.disposition == .close)
    #expect(server.counters.keepAliveTimeouts == 1)
  }

  @Test func aResponseTheClientDoesNotReadIsResetAfterTheSendTimeout() {
    let server = Self.server()
    var session = server.makeSession(now: Self.start)
    var output = TestOutput(room: 1000)
    _ = session.receive("GET /bytes/10000000 HTTP/1.1\r\n\r\n", output: &output, now: Self.start)
    #expect(session.nextDeadline == Self.start + .seconds(60))
    // Some progress later moves the deadline.
    output.room = 10
    session.send(output: &output, now: Self.start + .seconds(30))
    #expect(session.nextDeadline == Self.start + .seconds(90))
    session.timerExpired(now: Self.start + .seconds(90))
    #expect(session.disposition == .abort)
    #expect(server.counters.sendTimeouts == 1)
  }

  @Test func aRequestBodyIsReadAndDropped() {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput()
    let head = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
    #expect(session.receive(head + "01234", output: &output, now: Self.start) == head.utf8.count)
    #expect(session.receive("01234", output: &output, now: Self.start) == 5)
    #expect(output.bytes.isEmpty)
    #expect(session.receive("56789GET", output: &output, now: Self.start) == 5)
    #expect(Self.responses(output.bytes).first?.status == "HTTP/1.1 405 Method Not Allowed")
  }

  @Test(arguments: [
    ("GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"),
    ("hello\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    ("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HTTP/1.1 400 Bad Request"),
    ("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 501 Not Implemented"),
    (
      "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "HTTP/1.1 400 Bad Request"
    ),
    ("GET /bytes/x HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),
  ])
  func malformedRequests(request: String, status: String) {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput()
    _ = session.receive(request, output: &output, now: Self.start)
    #expect(Self.responses(output.bytes).first?.status == status)
  }

  @Test func http10ClosesUnlessKeepAliveIsAsked() {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput()
    _ = session.receive("GET / HTTP/1.0\r\n\r\n", output: &output, now: Self.start)
    #expect(session.disposition == .close)
    var kept = Self.server().makeSession(now: Self.start)
    _ = kept.receive(
      "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", output: &output, now: Self.start)
    #expect(kept.disposition == .open)
  }

  @Test func theClientsEndOfStreamClosesAfterTheResponse() {
    var session = Self.server().makeSession(now: Self.start)
    var output = TestOutput(room: 10)
    _ = session.receive("GET / HTTP/1.1\r\n\r\n", output: &output, now: Self.start)
    session.receiveEnd(output: &output, now: Self.start)
    #expect(session.disposition == .open)
    output.room = nil
    session.send(output: &output, now: Self.start)
    #expect(session.disposition == .close)
  }

  @Test func filesAreServedInChunks() {
    let content = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
    let files = HTTPFiles { path in
      guard path == "/data" else { return nil }
      return HTTPFile(size: content.count) { offset, buffer in
        let count = min(buffer.count, content.count - offset)
        content.withUnsafeBytes {
          buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)]))
        }
        return count
      }
    }
    let budget = MemoryBudget()
    var session = Self.server(files: files, budget: budget).makeSession(now: Self.start)
    var output = TestOutput(room: 50_000)
    _ = session.receive("GET /data HTTP/1.1\r\n\r\n", output: &output, now: Self.start)
    #expect(budget.used(for: .services) >= 64 * 1024)
    output.room = nil
    session.send(output: &output, now: Self.start)
    #expect(Self.responses(output.bytes).first?.body == content)
    #expect(budget.used(for: .services) == 0, "the chunk is given back when the file is sent")
  }
}
