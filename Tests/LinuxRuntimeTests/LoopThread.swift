import Glibc
import LinuxRuntime
import Synchronization

/// Runs an event loop's `run()` on a thread of its own, as a program's main thread would;
/// ``stop()`` asks it to return and waits until it has.
final class LoopThread {
  let loop: EventLoop
  private var thread = pthread_t()
  private var joined = false

  init(_ loop: EventLoop) {
    self.loop = loop
    let context = Unmanaged.passRetained(loop).toOpaque()
    let created = pthread_create(
      &thread, nil,
      { context in
        let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
        do { try loop.run() } catch { fatalError("the event loop failed: \(error)") }
        return nil
      }, context)
    precondition(created == 0, "pthread_create failed")
  }

  /// Stops the loop and waits for its thread to end.
  func stop() {
    guard !joined else { return }
    loop.stop()
    pthread_join(thread, nil)
    joined = true
  }

  deinit { stop() }
}

/// A value shared between the test and the loop's thread, behind a mutex.
final class Locked<Value: Sendable>: Sendable {
  private let mutex: Mutex<Value>

  init(_ value: Value) { mutex = Mutex(value) }

  var value: Value { mutex.withLock { $0 } }

  func update<Result>(_ body: (inout Value) -> Result) -> Result {
    mutex.withLock { body(&$0) }
  }
}

/// Runs `body` on the loop's thread and returns its result.
func onLoop<Result: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () -> Result) async
  -> Result
{
  await withCheckedContinuation { continuation in
    loop.execute { continuation.resume(returning: body()) }
  }
}

/// Waits until `condition` holds, checking every 5 ms for at most `seconds` (a generous
/// deadline: the machine may be busy); false if it never did.
func eventually(seconds: Double = 20, _ condition: () async -> Bool) async -> Bool {
  let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
  while ContinuousClock.now < deadline {
    if await condition() { return true }
    try? await Task.sleep(for: .milliseconds(5))
  }
  return await condition()
}

/// Something that only the loop's thread touches once the loop runs, handed to a closure that
/// runs there.
final class LoopOwned<Value>: @unchecked Sendable {
  let value: Value

  init(_ value: Value) { self.value = value }
}
