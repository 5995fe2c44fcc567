import NetCore

/// A bottleneck for one direction of the simulated link: a line rate and a bounded drop-tail
/// queue in front of it, so that the simulation has a capacity that TCP has to find (a tbf
/// qdisc in front of a wire, in virtual time).
///
/// A frame is serialized in `bytes × 8 / bitsPerSecond` (the Ethernet frame as the stack
/// wrote it: no preamble, gap or FCS) after every frame admitted before it, and leaves the
/// limiter when its last bit has; the link's delay and impairments apply after that. The
/// queue is measured in bytes not yet sent, including the frame on the wire; a frame that
/// does not fit is dropped and counted (drop-tail).
///
/// Nothing is stored but the time the line is busy until: a frame's departure time is known
/// when it arrives.
public struct LinkRateLimiter: Sendable {
  /// The line rate.
  public let bitsPerSecond: UInt64
  /// The most bytes waiting for or on the wire; a frame that would exceed it is dropped.
  public let queueLimit: Int
  /// When the last admitted frame has left.
  private var busyUntil = Instant(nanoseconds: Int64.min)
  /// Sub-nanosecond remainder of the serialization times so far (in bits × 10⁹ per
  /// second), so that rounding never adds up: a million frames take exactly their time.
  private var remainder: UInt64 = 0

  /// Frames admitted and frames dropped because the queue was full.
  public private(set) var framesAdmitted: UInt64 = 0
  public private(set) var framesDropped: UInt64 = 0

  /// A line of `bitsPerSecond` (at least 1) behind a queue of `queueLimit` bytes (at least
  /// one largest frame, so that the limiter can send anything).
  public init(bitsPerSecond: UInt64, queueLimit: Int) {
    precondition(bitsPerSecond > 0, "a link rate must be positive")
    self.bitsPerSecond = bitsPerSecond
    self.queueLimit = max(queueLimit, 65_550)
  }

  /// Bytes queued at `now` (waiting or being sent), rounded up.
  public func backlog(at now: Instant) -> Int {
    guard busyUntil > now else { return 0 }
    let nanoseconds = UInt64((busyUntil - now).nanoseconds)
    let bits = nanoseconds.multipliedFullWidth(by: bitsPerSecond)
    let (quotient, remainder) = UInt64(8_000_000_000).dividingFullWidth(bits)
    return Int(quotient) + (remainder > 0 ? 1 : 0)
  }

  /// Admits a frame of `count` bytes arriving at `now`: returns when its last bit leaves the
  /// line, or nil (and counts a drop) when the queue has no room for it.
  public mutating func admit(frameOf count: Int, at now: Instant) -> Instant? {
    guard backlog(at: now) + count <= queueLimit else {
      framesDropped += 1
      return nil
    }
    if busyUntil < now {
      busyUntil = now
      remainder = 0
    }
    // Serialization time in nanoseconds: bits × 10⁹ / rate, carrying the remainder.
    let (high, low) = (UInt64(count) * 8).multipliedFullWidth(by: 1_000_000_000)
    let (sum, overflow) = low.addingReportingOverflow(remainder)
    let (nanoseconds, rest) = bitsPerSecond.dividingFullWidth(
      (high + (overflow ? 1 : 0), sum))
    remainder = rest
    busyUntil = busyUntil + .nanoseconds(Int64(nanoseconds))
    framesAdmitted += 1
    return busyUntil
  }
}
