import Applications
import Glibc
import NetCore
import Testing

@testable import LinuxRuntime

/// The socket backend's service host (`netstackd --backend socket`) against real loopback
/// sockets in the test process: the library's handlers served over the host kernel's TCP,
/// stepped by an event loop on its own thread, wired as the daemon wires it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SocketServiceHostTests {
  /// A host on a loop, and the port of its one service.
  final class Running: @unchecked Sendable {
    let loop: EventLoop
    let host: SocketServiceHost
    let port: UInt16
    let thread: LoopThread

    init(_ makeService: (MemoryBudget) -> Service, budget: MemoryBudget = MemoryBudget())
      throws
    {
      loop = try EventLoop()
      host = SocketServiceHost(
        loop: loop, bindAddress: IPv4Address(127, 0, 0, 1), budget: budget)
      port = try LoopbackClient.freePort()
      try host.start(makeService(budget), port: port)
      let host = self.host
      loop.deadline = { host.nextDeadline }
      loop.turn = { now in host.runTimers(now: now) }
      thread = LoopThread(loop)
    }

    /// The host's counters, read on the loop.
    func counters() async -> ServiceHostSocketCounters {
      await onLoop(loop) { self.host.counters }
    }

    func httpCounters() async -> HTTPServerCounters? {
      await onLoop(loop) { self.host.httpCounters }
    }

    func stop() { thread.stop() }
  }

  /// Bytes of a known pattern.
  private func pattern(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31 &+ ($0 >> 9)) }
  }

  @Test func echoSendsEveryByteBackAndClosesAfterTheClientsEnd() async throws {
    let running = try Running { _ in .echo }
    let client = try LoopbackClient(port: running.port)
    var received: [UInt8] = []
    let sent = pattern(1 << 20)
    for start in stride(from: 0, to: sent.count, by: 16384) {
      let piece = Array(sent[start..<min(start + 16384, sent.count)])
      try client.send(piece)
      received += try client.receive(exactly: piece.count)
    }
    #expect(received == sent)
    client.shutdownWrite()
    #expect(try client.receiveToEnd().isEmpty)  // the server's FIN, nothing more
    #expect(await eventually { await running.counters().closed == 1 })
    let counters = await running.counters()
    running.stop()
    #expect(counters.accepted == 1)
    #expect(counters.failed == 0 && counters.reset == 0 && counters.refused == 0)
  }

  @Test func httpAnswersAGetAndCountsIt() async throws {
    let running = try Running { budget in
      .http(HTTPServer(platform: "the test's sockets", budget: budget))
    }
    let client = try LoopbackClient(port: running.port)
    try client.send("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    let response = String(decoding: try client.receiveToEnd(), as: UTF8.self)
    #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
    #expect(response.contains("running on the test's sockets"))
    #expect(await eventually { await running.counters().closed == 1 })
    let http = try #require(await running.httpCounters())
    running.stop()
    #expect(http.requests == 1)
    #expect(http.responses2xx == 1)
  }

  /// The handler's timer runs through the loop's deadline: half a head gets 408 when the
  /// header timeout passes, then the close.
  @Test func aHeadThatDoesNotCompleteGets408AtTheHeaderTimeout() async throws {
    var limits = HTTPServerLimits()
    limits.headerTimeout = .milliseconds(300)
    let running = try Running { budget in
      .http(HTTPServer(platform: "test", limits: limits, budget: budget))
    }
    let client = try LoopbackClient(port: running.port)
    let started = MonotonicClock.now()
    try client.send("GET / HTTP/1.1\r\nHost: te")
    let response = String(decoding: try client.receiveToEnd(), as: UTF8.self)
    let elapsed = MonotonicClock.now() - started
    #expect(response.hasPrefix("HTTP/1.1 408 "))
    #expect(elapsed >= .milliseconds(300))
    #expect(elapsed < .seconds(8))
    #expect(await eventually { await running.httpCounters()?.headerTimeouts == 1 })
    running.stop()
  }

  /// When the memory budget admits no new work, a connection is accepted and closed at once
  /// and counted; once there is room again, the next one is served.
  @Test func aConnectionIsRefusedWhileTheBudgetAdmitsNoNewWork() async throws {
    let budget = MemoryBudget(limit: MemoryBudget.minimumLimit)
    #expect(budget.reserve(budget.admissionLevel, for: .services))
    let running = try Running({ _ in .echo }, budget: budget)
    let refused = try LoopbackClient(port: running.port)
    #expect(try refused.receiveToEnd().isEmpty)
    #expect(await eventually { await running.counters().refused == 1 })

    let owned = LoopOwned(budget)
    await onLoop(running.loop) {
      owned.value.release(owned.value.admissionLevel, for: .services)
    }
    let served = try LoopbackClient(port: running.port)
    try served.send([1, 2, 3])
    #expect(try served.receive(exactly: 3) == [1, 2, 3])
    let counters = await running.counters()
    running.stop()
    #expect(counters.accepted == 1)
    #expect(counters.refused == 1)
  }

  /// A client that resets its connection while chargen writes: the session fails, is counted,
  /// and gives its memory back.
  @Test func aClientThatResetsEndsItsSessionAsFailed() async throws {
    let budget = MemoryBudget()
    let running = try Running({ _ in .chargen }, budget: budget)
    let client = try LoopbackClient(port: running.port)
    let first = try client.receive(exactly: 74)
    #expect(first.count == 74)
    #expect(first.last == 0x0A)  // RFC 864: 72 characters, CR LF
    client.reset()
    #expect(await eventually { await running.counters().failed == 1 })
    let owned = LoopOwned(budget)
    let used = await onLoop(running.loop) { owned.value.used(for: .services) }
    running.stop()
    #expect(used == 0)
  }

  @Test func discardTakesEverythingAndClosesAfterTheClientsEnd() async throws {
    let running = try Running { _ in .discard }
    let client = try LoopbackClient(port: running.port)
    try client.send(pattern(300_000))
    client.shutdownWrite()
    #expect(try client.receiveToEnd().isEmpty)
    #expect(await eventually { await running.counters().closed == 1 })
    running.stop()
  }

  /// Many clients at once, each answered byte-exact on its own connection.
  @Test func manyClientsAtOnceEachGetTheirOwnBytes() async throws {
    let running = try Running { _ in .echo }
    let clients = try (0..<64).map { _ throws(LoopbackError) in
      try LoopbackClient(port: running.port)
    }
    for (index, client) in clients.enumerated() { try client.send(pattern(1000, seed: index)) }
    for (index, client) in clients.enumerated() {
      #expect(try client.receive(exactly: 1000) == pattern(1000, seed: index))
      client.shutdownWrite()
    }
    #expect(await eventually { await running.counters().closed == 64 })
    running.stop()
  }

  @Test func aPortInUseIsAnError() async throws {
    let running = try Running { _ in .echo }
    let other = try EventLoop()
    let second = SocketServiceHost(
      loop: other, bindAddress: IPv4Address(127, 0, 0, 1), budget: MemoryBudget())
    #expect(throws: SystemError.self) { try second.start(.echo, port: running.port) }
    running.stop()
  }
}
