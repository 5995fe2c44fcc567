import CLinuxShims
import Glibc
import NetCore
import Testing

@testable import LinuxRuntime

/// The event loop as the daemon drives it: work from other threads and from tasks, ready
/// descriptors, the deadline, stopping, and sleeping when there is nothing to do.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct EventLoopTests {
  // MARK: Work from anywhere

  @Test func closuresFromAnotherThreadRunOnTheLoopInOrder() async throws {
    let loop = try EventLoop()
    let thread = LoopThread(loop)
    let log = Locked<[Int]>([])
    let offLoop = Locked(0)
    for index in 0..<200 {
      loop.execute {
        if !loop.isCurrent { offLoop.update { $0 += 1 } }
        log.update { $0.append(index) }
      }
    }
    #expect(await eventually { log.value.count == 200 })
    thread.stop()
    #expect(log.value == Array(0..<200))
    #expect(offLoop.value == 0)
    #expect(!loop.isCurrent)
  }

  /// A task that prefers the loop (SE-0417), as every service does, runs on its thread, and
  /// so does the rest of it after it suspends.
  @Test func tasksPreferringTheLoopRunOnItsThread() async throws {
    let loop = try EventLoop()
    let thread = LoopThread(loop)
    let placesOnLoop = await Task(executorPreference: loop) { () -> [Bool] in
      var places = [loop.isCurrent]
      await Task.yield()
      places.append(loop.isCurrent)
      try? await Task.sleep(for: .milliseconds(10))
      places.append(loop.isCurrent)
      return places
    }.value
    thread.stop()
    #expect(placesOnLoop == [true, true, true])
  }

  /// What a closure queues while the loop runs its queue waits for the next turn, so that
  /// descriptors and timers are never starved by work that queues more work.
  @Test func workQueuedByWorkWaitsForTheNextTurn() throws {
    let loop = try EventLoop()
    let log = Locked<[String]>([])
    loop.execute {
      log.update { $0.append("first") }
      loop.execute { log.update { $0.append("queued by first") } }
    }
    var turns = 0
    loop.turn = { _ in
      turns += 1
      log.update { $0.append("turn \(turns)") }
      if turns == 2 { loop.stop() }
    }
    try loop.run()
    #expect(log.value == ["first", "turn 1", "queued by first", "turn 2"])
  }

  // MARK: Descriptors

  /// A pipe's read end: its handler is called with EPOLLIN while bytes wait; not while its
  /// events are 0 (modify); never again once unregistered; with EPOLLHUP when the writer goes.
  @Test func aReadyDescriptorCallsItsHandlerWhileItIsWatched() async throws {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    let (reader, writer) = (ends[0], ends[1])
    _ = fcntl(reader, F_SETFL, O_NONBLOCK)
    defer { close(reader) }
    let loop = try EventLoop()
    let calls = Locked<[UInt32]>([])
    try loop.register(reader, events: UInt32(EPOLLIN.rawValue)) { events in
      var byte: UInt8 = 0
      while read(reader, &byte, 1) == 1 {}
      calls.update { $0.append(events) }
    }
    let thread = LoopThread(loop)

    var byte: UInt8 = 1
    #expect(write(writer, &byte, 1) == 1)
    #expect(await eventually { calls.value.count == 1 })
    #expect(calls.value[0] & UInt32(EPOLLIN.rawValue) != 0)

    // Not watched: a byte written, then a closure queued; when the closure has run, the
    // loop has waited with the pipe ready and did not call the handler.
    await onLoop(loop) { try? loop.modify(reader, events: 0) }
    #expect(write(writer, &byte, 1) == 1)
    await onLoop(loop) {}
    await onLoop(loop) {}
    #expect(calls.value.count == 1)

    // Watched again: the byte that waited is reported.
    await onLoop(loop) { try? loop.modify(reader, events: UInt32(EPOLLIN.rawValue)) }
    #expect(await eventually { calls.value.count == 2 })

    // The writer goes: EPOLLHUP (epoll reports it whatever the events asked).
    close(writer)
    #expect(await eventually { calls.value.contains { $0 & UInt32(EPOLLHUP.rawValue) != 0 } })

    // Unregistered: the hang-up, still there, calls nothing.
    await onLoop(loop) { loop.unregister(reader) }
    let count = calls.value.count
    await onLoop(loop) {}
    await onLoop(loop) {}
    #expect(calls.value.count == count)
    thread.stop()
  }

  @Test func registeringABadDescriptorThrowsTheSystemError() throws {
    let loop = try EventLoop()
    #expect(throws: SystemError.self) {
      try loop.register(-1, events: UInt32(EPOLLIN.rawValue)) { _ in }
    }
    do {
      try loop.register(-1, events: UInt32(EPOLLIN.rawValue)) { _ in }
    } catch {
      #expect(error.operation == "epoll_ctl")
      #expect(error.errno == EBADF)
      #expect(error.description == "epoll_ctl failed: Bad file descriptor")
    }
  }

  // MARK: The deadline

  /// The loop sleeps until the deadline and then turns: not before it (bar one early turn at
  /// the start), and not long after it.
  @Test func theLoopTurnsAtItsDeadline() async throws {
    let loop = try EventLoop()
    let target = MonotonicClock.now() + .milliseconds(200)
    let turns = Locked<[Instant]>([])
    loop.deadline = { turns.value.contains { $0 >= target } ? nil : target }
    loop.turn = { now in turns.update { $0.append(now) } }
    let thread = LoopThread(loop)
    #expect(await eventually { turns.value.contains { $0 >= target } })
    thread.stop()
    let early = turns.value.filter { $0 < target }
    let late = try #require(turns.value.first { $0 >= target })
    #expect(early.count <= 2, "the loop turned \(early.count) times before its deadline")
    #expect(late - target < .seconds(5))
  }

  /// With nothing to do and no deadline the loop sleeps in epoll_wait: no turns at all.
  @Test func anIdleLoopSleeps() async throws {
    let loop = try EventLoop()
    let turns = Locked(0)
    loop.turn = { _ in turns.update { $0 += 1 } }
    let thread = LoopThread(loop)
    await onLoop(loop) {}
    let before = turns.value
    try await Task.sleep(for: .milliseconds(300))
    let after = turns.value
    thread.stop()
    #expect(after - before <= 1, "\(after - before) turns in 300 ms with nothing to do")
  }

  /// A deadline in the past is due at once (timeout 0), and one beyond the next minute still
  /// lets the loop sleep (the wait is capped, not the deadline moved).
  @Test func aPastDeadlineIsDueAtOnce() async throws {
    let loop = try EventLoop()
    let turns = Locked(0)
    loop.deadline = {
      turns.value < 5 ? Instant(nanoseconds: 0) : MonotonicClock.now() + .seconds(3600)
    }
    loop.turn = { _ in turns.update { $0 += 1 } }
    let thread = LoopThread(loop)
    #expect(await eventually { turns.value >= 5 })
    try await Task.sleep(for: .milliseconds(200))
    let settled = turns.value
    thread.stop()
    #expect(settled <= 6)
  }

  /// With a fixed busy-poll window the loop keeps polling (epoll_wait with timeout 0) for
  /// that long after work, then sleeps again; a poll that finds nothing runs no turn.
  @Test func busyPollingLastsItsWindowAfterWork() async throws {
    let loop = try EventLoop()
    loop.busyPollWindow = .milliseconds(150)
    let turns = Locked(0)
    loop.turn = { _ in turns.update { $0 += 1 } }
    let thread = LoopThread(loop)
    await onLoop(loop) {}
    // Past the window (generously), it sleeps: reading the counters is itself work, which
    // starts a window again, so read twice, far enough apart.
    try await Task.sleep(for: .milliseconds(600))
    let first = await onLoop(loop) { (loop.counters, turns.value) }
    try await Task.sleep(for: .milliseconds(600))
    let second = await onLoop(loop) { loop.counters }
    thread.stop()
    #expect(first.0.polls > 50, "\(first.0)")
    #expect(first.1 == 1, "one turn for the work, none for the polls that found nothing")
    #expect(first.0.busyTurnsAfterSleep >= 1)
    // The second read started a window of its own: polls in it, then none.
    try #require(second.polls >= first.0.polls)
    let secondPolls = second.polls - first.0.polls
    #expect(second.sleeps - first.0.sleeps <= 3, "\(second)")
    #expect(secondPolls > 0)
  }

  /// The adaptive policy: work that arrives closely spaced (round trips to the loop, one after
  /// the other) is found while polling (unless polling was preempted: then it pauses); an
  /// isolated piece of work after idle is not, and the loop sleeps again once the work stops.
  @Test func adaptiveBusyPollingPollsOnlyWhileWorkArrivesCloselySpaced() async throws {
    let loop = try EventLoop()
    loop.busyPoll = BusyPollPolicy(.adaptive(maximum: .milliseconds(5)))
    let thread = LoopThread(loop)
    await onLoop(loop) {}
    try await Task.sleep(for: .milliseconds(100))
    let isolated = await onLoop(loop) { loop.counters }
    #expect(isolated.busyTurnsAfterPoll == 0, "\(isolated)")
    #expect(isolated.polls == 0, "\(isolated)")
    for _ in 0..<200 { await onLoop(loop) {} }
    let stream = await onLoop(loop) { loop.counters }
    // Unless the loop was preempted while it polled (a busy machine), which pauses polling.
    #expect(stream.busyTurnsAfterPoll > 100 || stream.pollingPreempted > 0, "\(stream)")
    // Reads 50 ms apart are isolated work: each halves the window, down to none.
    var (window, idle) = (Interval.milliseconds(5), EventLoopCounters())
    for _ in 0..<8 where window > .zero {
      try await Task.sleep(for: .milliseconds(50))
      (window, idle) = await onLoop(loop) { (loop.busyPoll.window, loop.counters) }
    }
    #expect(window == .zero)
    try await Task.sleep(for: .milliseconds(300))
    let later = await onLoop(loop) { loop.counters }
    thread.stop()
    #expect(later.polls == idle.polls, "\(idle) then \(later)")
  }

  // MARK: Stopping

  @Test func stopFromAnotherThreadEndsRun() async throws {
    let loop = try EventLoop()
    let thread = LoopThread(loop)
    await onLoop(loop) {}
    thread.stop()  // returns only once run() has returned
    #expect(!loop.isCurrent)
  }

  @Test func stopBeforeRunMeansNoTurn() throws {
    let loop = try EventLoop()
    var turns = 0
    loop.turn = { _ in turns += 1 }
    loop.stop()
    try loop.run()
    #expect(turns == 0)
  }

  /// `stop()` in a turn ends `run()` after that turn, even with work always due.
  @Test func stopInATurnEndsRunAfterIt() throws {
    let loop = try EventLoop()
    var turns = 0
    loop.deadline = { .zero }
    loop.turn = { _ in
      turns += 1
      if turns == 3 { loop.stop() }
    }
    try loop.run()
    #expect(turns == 3)
  }

  /// A signal delivered through a `SignalReceiver` reaches the handler ``EventLoop/watch(_:handler:)``
  /// installed, on the loop.
  @Test func aSignalReachesItsHandlerOnTheLoop() throws {
    // SIGUSR1, which the test runner does not use: the receiver blocks it in this thread,
    // raise() sends it to this thread, so it waits for the signalfd; the loop runs here too.
    let receiver = try SignalReceiver(signals: [SIGUSR1])
    let loop = try EventLoop()
    let received = Locked<[Int32]>([])
    try loop.watch(receiver) { signal in
      received.update { $0.append(signal) }
      loop.stop()
    }
    #expect(raise(SIGUSR1) == 0)
    try loop.run()
    #expect(received.value == [SIGUSR1])
  }
}
