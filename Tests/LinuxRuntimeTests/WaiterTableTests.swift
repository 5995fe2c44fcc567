import Testing

@testable import LinuxRuntime

/// Tasks suspended on a key until the loop resumes every waiter of that key, as the direct
/// stack's readers, writers and acceptors wait. Everything runs on one event loop, as there.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct WaiterTableTests {
  /// The table, touched only on the loop's thread.
  final class Waiters: @unchecked Sendable {
    var table = WaiterTable<Int>()
  }

  @Test func resumeAllResumesEveryWaiterOfItsKeyAndNoOther() async throws {
    let loop = try EventLoop()
    let thread = LoopThread(loop)
    let waiters = Waiters()
    let resumed = Locked<[String]>([])
    for (key, name) in [(1, "a"), (1, "b"), (2, "c")] {
      Task(executorPreference: loop) {
        await waiters.table.wait(key)
        resumed.update { $0.append(name) }
      }
    }
    // The tasks' first jobs were queued on the loop before this closure: all three wait.
    #expect(await onLoop(loop) { waiters.table.hasWaiters(1) && waiters.table.hasWaiters(2) })
    #expect(await onLoop(loop) { !waiters.table.hasWaiters(3) })
    #expect(resumed.value.isEmpty)

    await onLoop(loop) { waiters.table.resumeAll(1) }
    #expect(await eventually { resumed.value.count == 2 })
    // The resumed tasks ran before this closure; the other key's waiter still waits.
    await onLoop(loop) {}
    #expect(resumed.value == ["a", "b"])
    #expect(await onLoop(loop) { !waiters.table.hasWaiters(1) && waiters.table.hasWaiters(2) })

    await onLoop(loop) { waiters.table.resumeAll(2) }
    #expect(await eventually { resumed.value.count == 3 })
    #expect(resumed.value == ["a", "b", "c"])
    #expect(await onLoop(loop) { !waiters.table.hasWaiters(2) })
    thread.stop()
  }

  /// Resuming a key nobody waits on does nothing; a waiter whose condition does not hold yet
  /// waits again (each re-checks its condition, as a reader re-checks for bytes).
  @Test func aWaiterReChecksItsConditionAndWaitsAgain() async throws {
    let loop = try EventLoop()
    let thread = LoopThread(loop)
    let waiters = Waiters()
    let wakeUps = Locked(0)
    let ready = Locked(false)
    let done = Locked(false)
    await onLoop(loop) { waiters.table.resumeAll(7) }  // nobody waits: nothing happens
    Task(executorPreference: loop) {
      while !ready.value {
        await waiters.table.wait(7)
        wakeUps.update { $0 += 1 }
      }
      done.update { $0 = true }
    }
    #expect(await onLoop(loop) { waiters.table.hasWaiters(7) })
    await onLoop(loop) { waiters.table.resumeAll(7) }  // woken, but not ready: waits again
    #expect(await eventually { wakeUps.value == 1 })
    #expect(await onLoop(loop) { waiters.table.hasWaiters(7) })
    #expect(!done.value)
    ready.update { $0 = true }
    await onLoop(loop) { waiters.table.resumeAll(7) }
    #expect(await eventually { done.value })
    #expect(wakeUps.value == 2)
    #expect(await onLoop(loop) { !waiters.table.hasWaiters(7) })
    thread.stop()
  }
}
