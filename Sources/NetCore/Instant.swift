/// A point on the stack's monotonic clock, in nanoseconds since an arbitrary origin.
///
/// Protocol code never reads a clock: the runtime that drives the stack passes `now` in (the
/// Linux event loop reads `CLOCK_MONOTONIC`, a unikernel Xen's clock, a test its manual clock),
/// and layers answer with the next `Instant` at which they want to be polled.
public struct Instant: Hashable, Comparable, Sendable {
  /// Nanoseconds since the clock's origin.
  public var nanoseconds: Int64

  public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

  /// The clock's origin.
  public static let zero = Instant(nanoseconds: 0)

  public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

  public static func + (lhs: Instant, rhs: Interval) -> Instant {
    Instant(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
  }

  public static func += (lhs: inout Instant, rhs: Interval) { lhs = lhs + rhs }

  public static func - (lhs: Instant, rhs: Interval) -> Instant {
    Instant(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
  }

  /// The time from `rhs` to `lhs`.
  public static func - (lhs: Instant, rhs: Instant) -> Interval {
    Interval(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
  }

  /// The earlier of two optional deadlines (nil means "none").
  public static func earliest(_ a: Instant?, _ b: Instant?) -> Instant? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a, b)
  }
}

extension Instant: CustomStringConvertible {
  public var description: String { "\(Interval(nanoseconds: nanoseconds))" }
}

/// A span of time in nanoseconds: timeouts, round-trip times, lease lengths.
public struct Interval: Hashable, Comparable, Sendable {
  /// The length in nanoseconds (may be negative for a difference of instants).
  public var nanoseconds: Int64

  public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

  public static let zero = Interval(nanoseconds: 0)

  public static func nanoseconds(_ value: Int64) -> Interval { Interval(nanoseconds: value) }
  public static func microseconds(_ value: Int64) -> Interval {
    Interval(nanoseconds: value * 1_000)
  }
  public static func milliseconds(_ value: Int64) -> Interval {
    Interval(nanoseconds: value * 1_000_000)
  }
  public static func seconds(_ value: Int64) -> Interval {
    Interval(nanoseconds: value * 1_000_000_000)
  }

  /// Whole microseconds (rounded toward zero).
  public var microseconds: Int64 { nanoseconds / 1_000 }
  /// Whole milliseconds (rounded toward zero).
  public var milliseconds: Int64 { nanoseconds / 1_000_000 }
  /// Whole seconds (rounded toward zero).
  public var seconds: Int64 { nanoseconds / 1_000_000_000 }

  public static func < (lhs: Interval, rhs: Interval) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
  public static func + (lhs: Interval, rhs: Interval) -> Interval {
    Interval(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
  }
  public static func - (lhs: Interval, rhs: Interval) -> Interval {
    Interval(nanoseconds: lhs.nanoseconds &- rhs.nanoseconds)
  }
  public static func * (lhs: Interval, rhs: Int64) -> Interval {
    Interval(nanoseconds: lhs.nanoseconds &* rhs)
  }
  public static func / (lhs: Interval, rhs: Int64) -> Interval {
    Interval(nanoseconds: lhs.nanoseconds / rhs)
  }
}

extension Interval: CustomStringConvertible {
  /// `250ms`, `1.5s`, `12µs`.
  public var description: String {
    let magnitude = nanoseconds < 0 ? -nanoseconds : nanoseconds
    let sign = nanoseconds < 0 ? "-" : ""
    if magnitude >= 1_000_000_000 {
      let tenths = magnitude / 100_000_000
      return "\(sign)\(tenths / 10).\(tenths % 10)s"
    }
    if magnitude >= 1_000_000 { return "\(sign)\(magnitude / 1_000_000)ms" }
    if magnitude >= 1_000 { return "\(sign)\(magnitude / 1_000)us" }
    return "\(sign)\(magnitude)ns"
  }
}
