import CLinuxShims
import Glibc

extension EventLoop {
  /// Calls `handler` on the loop's thread with the number of each signal `receiver` delivers
  /// (its `signalfd`, watched for `EPOLLIN`), so that a program stops cleanly on SIGINT or
  /// SIGTERM: typically the handler calls ``stop()``.
  ///
  /// The receiver must outlive the loop's run (its descriptor is closed when it is
  /// destroyed). Call it on the loop's thread, or before ``run()``.
  public func watch(_ receiver: borrowing SignalReceiver, handler: @escaping (Int32) -> Void)
    throws(SystemError)
  {
    let descriptor = receiver.fileDescriptor
    try register(descriptor, events: UInt32(EPOLLIN.rawValue)) { _ in
      while let signal = SignalReceiver.take(from: descriptor) { handler(signal) }
    }
  }
}
