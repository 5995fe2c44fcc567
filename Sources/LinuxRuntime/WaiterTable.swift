/// Tasks suspended until something happens to a key (a connection becomes readable, a
/// listener has a connection): the event loop resumes all of a key's waiters at once, and
/// each re-checks its condition.
///
/// Touched only on the loop's thread.
struct WaiterTable<Key: Hashable> {
  private var waiting: [Key: [UnsafeContinuation<Void, Never>]] = [:]

  /// Suspends the calling task until ``resumeAll(_:)`` for `key`.
  mutating func wait(_ key: Key) async {
    await withUnsafeContinuation { continuation in
      waiting[key, default: []].append(continuation)
    }
  }

  /// Resumes every task waiting on `key`.
  mutating func resumeAll(_ key: Key) {
    guard let continuations = waiting.removeValue(forKey: key) else { return }
    for continuation in continuations { continuation.resume() }
  }

  /// Whether anyone waits on `key`.
  func hasWaiters(_ key: Key) -> Bool { waiting[key] != nil }
}

extension EventLoop {
  /// Runs `body` on the loop's thread: at once when the task is already there, else after
  /// moving the task there (SE-0417 task executor preference).
  func run<Result, Failure: Error>(_ body: () async throws(Failure) -> Result) async throws(Failure)
    -> Result
  {
    if isCurrent { return try await body() }
    return try await withTaskExecutorPreference(self) { () async throws(Failure) -> Result in
      try await body()
    }
  }
}
