import CLinuxShims
import Glibc
import LinuxRuntime
import NetCore

/// A timer the event loop can wait on: a `timerfd` on `CLOCK_MONOTONIC` (the clock of
/// `MonotonicClock`), armed for one absolute time at a time. It becomes readable when that
/// time comes; ``acknowledge()`` reads the expiry so that it stops being readable.
final class DeadlineTimer {
  let fileDescriptor: Int32

  init() throws(SystemError) {
    let descriptor = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
    guard descriptor >= 0 else { throw SystemError(operation: "timerfd_create", errno: errno) }
    fileDescriptor = descriptor
  }

  deinit { close(fileDescriptor) }

  /// Fires at `deadline` (at once if it has passed); nil disarms the timer (`timerfd_settime`).
  func arm(at deadline: Instant?) {
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
  func acknowledge() {
    var expirations: UInt64 = 0
    _ = read(fileDescriptor, &expirations, 8)
  }
}
