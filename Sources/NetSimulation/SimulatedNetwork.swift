import NetCore
import NetStack

/// Two direct stacks joined by an in-memory Ethernet link, driven by a virtual clock: the
/// deterministic test bed (gVisor's `channel` link with `faketime`, swift-nio's
/// `EmbeddedEventLoop.advanceTime`).
///
/// Time only moves when ``run(until:_:)`` jumps it to the next thing that happens: a frame
/// due at the far end of the link, or a stack's deadline. Each direction of the link has its
/// own ``FrameImpairer`` (loss, duplication, reordering, corruption, delay), seeded so that a
/// failing run can be replayed from its seed, and optionally a ``LinkRateLimiter`` in front of
/// it (a line rate and a bounded queue: frames leave it at the rate, then meet the impairments).
public struct SimulatedNetwork {
  /// The stack on the left end of the link.
  public var left: DirectStack
  /// The stack on the right end of the link.
  public var right: DirectStack
  /// Each stack's end of the link: frames due to it wait in its inbox, what it sends collects
  /// in its `sent`.
  private var leftEnd: MemoryDevice
  private var rightEnd: MemoryDevice
  private var leftToRight: FrameImpairer
  private var rightToLeft: FrameImpairer
  /// The bottleneck of each direction, if the link has a rate.
  public private(set) var leftToRightRate: LinkRateLimiter?
  public private(set) var rightToLeftRate: LinkRateLimiter?
  /// The virtual time.
  public private(set) var now: Instant
  /// Called with each frame as it enters the link (before impairment), for debugging.
  public var trace: ((Side, Span<UInt8>, Instant) -> Void)?
  /// Frames carried each way (before impairment).
  public private(set) var framesLeftToRight: UInt64 = 0
  public private(set) var framesRightToLeft: UInt64 = 0

  /// Two stacks built from their configurations at time `start`, with `impairment` applied
  /// to both directions of the link (and at least `latency` of delay each way), and, with a
  /// `rateLimit`, a copy of that limiter in front of each direction.
  public init(
    left: DirectStackConfiguration, right: DirectStackConfiguration,
    impairment: ImpairmentConfiguration = ImpairmentConfiguration(), seed: UInt64,
    rateLimit: LinkRateLimiter? = nil,
    start: Instant = Instant(nanoseconds: 1_000_000_000)
  ) {
    leftToRightRate = rateLimit
    rightToLeftRate = rateLimit
    now = start
    self.left = DirectStack(configuration: left, now: start)
    self.right = DirectStack(configuration: right, now: start)
    leftEnd = MemoryDevice(mtu: left.mtu)
    rightEnd = MemoryDevice(mtu: right.mtu)
    leftToRight = FrameImpairer(configuration: impairment, seed: seed &* 2 &+ 1)
    rightToLeft = FrameImpairer(configuration: impairment, seed: seed &* 2 &+ 2)
  }

  /// Which end of the link.
  public enum Side: Sendable {
    case left
    case right
  }

  /// Runs the network until `deadline`, or until `turn` returns false. `turn` is called once
  /// per step, after frames were delivered and timers run: where a test's applications act.
  /// Returns the time reached.
  @discardableResult
  public mutating func run(
    until deadline: Instant, _ turn: (inout SimulatedNetwork) -> Bool = { _ in true }
  ) -> Instant {
    var stepsAtThisInstant = 0
    while now <= deadline {
      step()
      guard turn(&self) else { break }
      // What the applications queued goes on the wire before time moves.
      pollStacks()
      carryQueuedFrames()
      guard let next = nextEvent, next <= deadline else {
        now = deadline
        break
      }
      if next <= now {
        // Frames sent with no delay arrive at the same instant; a stack that keeps asking
        // for the current time forever is a bug, not a simulation.
        stepsAtThisInstant += 1
        precondition(stepsAtThisInstant < 1_000_000, "simulation stuck at \(now)")
      } else {
        stepsAtThisInstant = 0
        now = next
      }
    }
    return now
  }

  /// Moves time forward by `interval` (for tests that want time to pass idly).
  public mutating func advance(by interval: Interval) {
    run(until: now + interval)
  }

  /// One step at the current time: carry sent frames, deliver due frames, poll both stacks.
  private mutating func step() {
    carryQueuedFrames()
    let time = now
    leftToRight.release(now: time) { frame in rightEnd.inbox.append(frame) }
    rightToLeft.release(now: time) { frame in leftEnd.inbox.append(frame) }
    pollStacks()
    carryQueuedFrames()
  }

  /// Polls each stack over its end of the link (every frame due to it, then its timers, its
  /// services, what became due).
  private mutating func pollStacks() {
    _ = left.poll(now: now, device: &leftEnd, receiveBatch: .max)
    _ = right.poll(now: now, device: &rightEnd, receiveBatch: .max)
  }

  /// Puts every frame the stacks sent into the link.
  private mutating func carryQueuedFrames() {
    for frame in leftEnd.takeSent() {
      framesLeftToRight += 1
      frame.withBytes { bytes in
        trace?(.left, bytes, now)
        // A rate-limited frame enters the impairer when it has left the line.
        if let departure = Self.admit(bytes.count, now: now, to: &leftToRightRate) {
          leftToRight.submit(bytes, now: departure)
        }
      }
    }
    for frame in rightEnd.takeSent() {
      framesRightToLeft += 1
      frame.withBytes { bytes in
        trace?(.right, bytes, now)
        if let departure = Self.admit(bytes.count, now: now, to: &rightToLeftRate) {
          rightToLeft.submit(bytes, now: departure)
        }
      }
    }
  }

  /// When a frame of `count` bytes leaves a direction's limiter (`now` without one), or nil
  /// when its queue is full.
  private static func admit(_ count: Int, now: Instant, to limiter: inout LinkRateLimiter?)
    -> Instant?
  {
    guard limiter != nil else { return now }
    return limiter!.admit(frameOf: count, at: now)
  }

  /// The next time anything happens, if anything will.
  private var nextEvent: Instant? {
    var next = Instant.earliest(left.nextDeadline, right.nextDeadline)
    next = Instant.earliest(next, leftToRight.nextDeadline)
    next = Instant.earliest(next, rightToLeft.nextDeadline)
    return next
  }

  /// Frames the rate limiters' queues dropped, both ways together.
  public var queueDrops: UInt64 {
    (leftToRightRate?.framesDropped ?? 0) + (rightToLeftRate?.framesDropped ?? 0)
  }

  /// Frames the impairers dropped, duplicated, reordered and corrupted, both ways together.
  public var impairmentSummary:
    (dropped: UInt64, duplicated: UInt64, reordered: UInt64, corrupted: UInt64)
  {
    (
      leftToRight.framesDropped + rightToLeft.framesDropped,
      leftToRight.framesDuplicated + rightToLeft.framesDuplicated,
      leftToRight.framesReordered + rightToLeft.framesReordered,
      leftToRight.framesCorrupted + rightToLeft.framesCorrupted
    )
  }
}
