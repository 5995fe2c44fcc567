import Glibc
import NetCore

/// The stack's clock on Linux: `clock_gettime(CLOCK_MONOTONIC)` as an `Instant`.
public enum MonotonicClock {
  /// The current time.
  public static func now() -> Instant {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Instant(nanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
  }
}
