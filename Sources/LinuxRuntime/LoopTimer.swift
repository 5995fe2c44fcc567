import CLinuxShims
import Glibc
import NetCore

/// A timer an ``EventLoop`` can wait on beside its own deadline: a `timerfd` on
/// `CLOCK_MONOTONIC` (the clock of ``MonotonicClock``), armed for one absolute time at a time.
/// It becomes readable when that time comes; ``acknowledge()`` reads the expiry so that it
/// stops being readable. For a component that keeps its own deadlines on a loop whose
/// `deadline` belongs to the stack.
public final class LoopTimer {
  public let fileDescriptor: Int32

  public init() throws(SystemError) {
    let descriptor = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
    guard descriptor >= 0 else { throw SystemError(operation: "timerfd_create", errno: errno) }
    fileDescriptor = descriptor
  }

  deinit { close(fileDescriptor) }

  /// Fires at `deadline` (at once if it has passed); nil disarms it (`timerfd_settime`).
  public func arm(at deadline: Instant?) {
    var setting = itimerspec()
    if let deadline {
      // A zero it_value would disarm; the clock's zero is long past anyway.
      let nanoseconds = max(deadline.nanoseconds, 1)
      setting.it_value.tv_sec = Int(nanoseconds / 1_000_000_000)
      setting.it_value.tv_nsec = Int(nanoseconds % 1_000_000_000)
    }
    _ = timerfd_settime(fileDescriptor, Int32(TFD_TIMER_ABSTIME), &setting, nil)
  }

  /// Reads the expiry count, so that the descriptor is no longer readable until it fires again.
  public func acknowledge() {
    var expirations: UInt64 = 0
    _ = read(fileDescriptor, &expirations, 8)
  }
}
