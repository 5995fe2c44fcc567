import CLinuxShims
import Glibc
import NetCore
import Synchronization

/// One thread's event loop: epoll over registered descriptors, a deadline for timers, and a
/// queue of Swift concurrency jobs, so that it is also the `TaskExecutor` that application
/// tasks run on (SE-0417).
///
/// Services start with `Task(executorPreference: loop)`; their code then runs on the loop's
/// thread, between its turns, and may touch the state the loop owns (the stack) directly:
/// no locks on the hot path, and the stack keeps a single owner. Other threads hand it jobs
/// or closures through a mutex-protected queue and wake it with an eventfd.
///
/// Each turn: wait in `epoll_wait` until a descriptor is ready, a job is queued, or the
/// deadline passes (or, while ``busyPoll`` says so, poll until one of those happens); run the
/// ready descriptors' handlers; run queued jobs; call ``turn``.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
  private let epoll: Epoll
  private let wakeDescriptor: Int32
  private let queue = Mutex<[Work]>([])
  private let wakePending = Atomic<Bool>(false)
  private let stopRequested = Atomic<Bool>(false)
  private let loopThread = Atomic<UInt>(0)
  /// Descriptor handlers; touched on the loop thread only.
  private var handlers: [Int32: (UInt32) -> Void] = [:]
  /// The earliest time the loop must wake for, if any (loop thread only).
  public var deadline: (() -> Instant?)?
  /// Called once per turn, after handlers and jobs, with the current time (loop thread only).
  public var turn: ((Instant) -> Void)?
  /// Whether the loop polls (`epoll_wait` with a zero timeout) instead of sleeping after a
  /// turn that found a descriptor ready (``BusyPollPolicy``; off by default). Polling trades
  /// CPU time for latency: a frame that arrives while the loop polls is handled without waking
  /// a sleeping thread, which in a VM means an inter-processor interrupt to an idle vCPU (tens
  /// of microseconds). A poll that finds nothing ready and no deadline due runs no turn, as a
  /// sleep that has not ended would not.
  public var busyPoll = BusyPollPolicy(.off)
  /// A fixed busy-poll window: ``BusyPollPolicy/Mode/fixed(_:)``, or off for zero.
  public var busyPollWindow: Interval {
    get {
      switch busyPoll.mode {
      case .fixed(let window): window
      case .off, .adaptive: .zero
      }
    }
    set { busyPoll = BusyPollPolicy(newValue > .zero ? .fixed(newValue) : .off) }
  }
  /// What the loop did, for status pages (loop thread only).
  public private(set) var counters = EventLoopCounters()

  /// Something queued for the loop: a task's job or a closure.
  private enum Work {
    case job(UnownedJob)
    case closure(@Sendable () -> Void)
  }

  /// An epoll instance with the loop's eventfd in it; the loop runs once ``run()`` is called.
  public init() throws(SystemError) {
    epoll = try Epoll()
    let descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    guard descriptor >= 0 else { throw SystemError(operation: "eventfd", errno: errno) }
    wakeDescriptor = descriptor
    try epoll.watch(descriptor, events: UInt32(EPOLLIN.rawValue))
  }

  deinit { close(wakeDescriptor) }

  /// Whether the caller runs on the loop's thread.
  public var isCurrent: Bool { loopThread.load(ordering: .relaxed) == UInt(pthread_self()) }

  // MARK: Descriptors

  /// Calls `handler` with the epoll events whenever `descriptor` is ready (loop thread, or
  /// before ``run()``).
  public func register(_ descriptor: Int32, events: UInt32, handler: @escaping (UInt32) -> Void)
    throws(SystemError)
  {
    try epoll.watch(descriptor, events: events)
    handlers[descriptor] = handler
  }

  /// Changes the events watched for a registered descriptor.
  public func modify(_ descriptor: Int32, events: UInt32) throws(SystemError) {
    try epoll.watch(descriptor, events: events, add: false)
  }

  /// Stops watching a descriptor.
  public func unregister(_ descriptor: Int32) {
    epoll.unwatch(descriptor)
    handlers[descriptor] = nil
  }

  // MARK: Work from anywhere

  /// Runs a task's job on the loop (the `TaskExecutor` requirement).
  public func enqueue(_ job: consuming ExecutorJob) {
    submit(.job(UnownedJob(job)))
  }

  /// Runs `body` on the loop thread soon.
  public func execute(_ body: @escaping @Sendable () -> Void) {
    submit(.closure(body))
  }

  private func submit(_ work: Work) {
    queue.withLock { $0.append(work) }
    if !isCurrent && !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
      var one: UInt64 = 1
      _ = write(wakeDescriptor, &one, 8)
    }
  }

  /// Asks ``run()`` to return after the current turn (from any thread).
  public func stop() {
    stopRequested.store(true, ordering: .releasing)
    var one: UInt64 = 1
    _ = write(wakeDescriptor, &one, 8)
  }

  // MARK: Running

  /// Runs turns on the calling thread until ``stop()``.
  public func run() throws(SystemError) {
    loopThread.store(UInt(pthread_self()), ordering: .relaxed)
    defer { loopThread.store(0, ordering: .relaxed) }
    var ready: [(Int32, UInt32)] = []
    ready.reserveCapacity(16)
    var pending: [Work] = []
    // The thread's CPU time when it last checked, while it polls.
    var cpuTimeWhilePolling: (wall: Instant, cpu: Instant)?
    while !stopRequested.load(ordering: .acquiring) {
      let hasWork = queue.withLock { !$0.isEmpty }
      let now = MonotonicClock.now()
      // In the window the loop polls; work already queued is taken without polling.
      let inPollingWindow = busyPoll.polls(at: now)
      let polling = !hasWork && inPollingWindow
      if inPollingWindow, cpuTimeWhilePolling == nil {
        cpuTimeWhilePolling = (now, Self.threadCPUTime())
      } else if !inPollingWindow, !hasWork, let before = cpuTimeWhilePolling {
        // The window is over: was the thread preempted in its tail?
        checkPreemption(since: before, now: now)
        cpuTimeWhilePolling = nil
      }
      let timeoutMilliseconds = hasWork || polling ? 0 : timeout(now: now)
      let slept = timeoutMilliseconds != 0
      try epoll.wait(timeoutMilliseconds: timeoutMilliseconds, into: &ready)
      if slept { counters.sleeps += 1 } else if polling { counters.polls += 1 }
      let woke = MonotonicClock.now()
      // Arrivals inform the policy: ready descriptors (frames, sockets, work handed over from
      // other threads through the eventfd), not the jobs the loop's own turns queued.
      if !ready.isEmpty {
        busyPoll.busyTurn(at: woke)
        if slept { counters.busyTurnsAfterSleep += 1 }
        if inPollingWindow {
          counters.busyTurnsAfterPoll += 1
          if let before = cpuTimeWhilePolling {
            cpuTimeWhilePolling = checkPreemption(since: before, now: woke)
          }
        }
      } else if polling, !deadlinePassed(at: woke) {
        continue
      }
      for (descriptor, events) in ready {
        if descriptor == wakeDescriptor {
          var value: UInt64 = 0
          _ = read(wakeDescriptor, &value, 8)
          wakePending.store(false, ordering: .releasing)
        } else {
          handlers[descriptor]?(events)
        }
      }
      runQueuedWork(into: &pending)
      turn?(MonotonicClock.now())
    }
  }

  /// Runs everything queued so far (work queued meanwhile waits for the next turn, so that
  /// descriptors and timers are never starved).
  private func runQueuedWork(into pending: inout [Work]) {
    queue.withLock { swap(&$0, &pending) }
    for work in pending {
      switch work {
      case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
      case .closure(let body): body()
      }
    }
    pending.removeAll(keepingCapacity: true)
  }

  /// The time a polling thread may lose to others (or to the host) between two checks before
  /// the busy-poll policy hears that it was preempted: more than a brief preemption by the
  /// thread it answers (a few microseconds), less than a scheduler slice of a busy CPU's
  /// other work (milliseconds).
  static let preemptionThreshold = Interval.microseconds(200)

  /// Tells the busy-poll policy whether the thread lost more than `preemptionThreshold` of
  /// the time since `before` (it runs all the time while it polls: wall time minus its CPU
  /// time is the time it waited); returns the times now.
  @discardableResult
  private func checkPreemption(since before: (wall: Instant, cpu: Instant), now: Instant)
    -> (wall: Instant, cpu: Instant)
  {
    let cpu = Self.threadCPUTime()
    if (now - before.wall) - (cpu - before.cpu) > Self.preemptionThreshold {
      counters.pollingPreempted += 1
      busyPoll.preempted(at: now)
    }
    return (now, cpu)
  }

  /// The calling thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`).
  private static func threadCPUTime() -> Instant {
    var time = timespec()
    guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return .zero }
    return Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
  }

  /// Whether the deadline has come by `now`.
  private func deadlinePassed(at now: Instant) -> Bool {
    guard let deadline = deadline?() else { return false }
    return deadline <= now
  }

  /// Milliseconds until the deadline, rounded up; -1 for none.
  private func timeout(now: Instant) -> Int32 {
    guard let deadline = deadline?() else { return -1 }
    let remaining = (deadline - now).nanoseconds
    if remaining <= 0 { return 0 }
    return Int32(min((remaining + 999_999) / 1_000_000, 60_000))
  }
}
