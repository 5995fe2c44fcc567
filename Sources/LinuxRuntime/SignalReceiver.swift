import CLinuxShims
import Glibc

/// Delivers SIGINT and SIGTERM through a descriptor (`signalfd`) so that the event loop can
/// stop cleanly. Create it first thing in `main`: it blocks the signals in the calling thread,
/// and threads started later inherit the mask.
public struct SignalReceiver: ~Copyable {
  /// The signalfd, readable when a signal is pending (``EventLoop/watch(_:handler:)`` watches it).
  public let fileDescriptor: Int32

  /// Blocks `signals` in the calling thread (`pthread_sigmask`) and opens a non-blocking
  /// signalfd for them.
  public init(signals: [Int32] = [SIGINT, SIGTERM]) throws(SystemError) {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in signals { sigaddset(&set, signal) }
    guard pthread_sigmask(SIG_BLOCK, &set, nil) == 0 else {
      throw SystemError(operation: "pthread_sigmask", errno: errno)
    }
    let descriptor = signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC))
    guard descriptor >= 0 else { throw SystemError(operation: "signalfd", errno: errno) }
    fileDescriptor = descriptor
  }

  deinit { close(fileDescriptor) }

  /// The next pending signal's number, if any.
  public func take() -> Int32? { SignalReceiver.take(from: fileDescriptor) }

  /// Reads the next pending signal's number from a signalfd descriptor, if any.
  public static func take(from descriptor: Int32) -> Int32? {
    var info = signalfd_siginfo()
    let count = read(descriptor, &info, MemoryLayout<signalfd_siginfo>.size)
    guard count == MemoryLayout<signalfd_siginfo>.size else { return nil }
    return Int32(info.ssi_signo)
  }
}
