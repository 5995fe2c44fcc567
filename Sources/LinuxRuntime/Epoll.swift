import CLinuxShims
import Glibc

/// A thin owner of an epoll instance (`epoll_create1`, `epoll_ctl`, `epoll_wait`).
final class Epoll {
  /// The epoll instance.
  let fileDescriptor: Int32
  /// Reused for every `epoll_wait`.
  private var events = [epoll_event](repeating: epoll_event(), count: 64)

  /// Creates the epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
  init() throws(SystemError) {
    let descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
    guard descriptor >= 0 else { throw SystemError(operation: "epoll_create1", errno: errno) }
    fileDescriptor = descriptor
  }

  deinit { close(fileDescriptor) }

  /// Watches `descriptor` for `events` (EPOLLIN, EPOLLOUT ...); `add` false modifies.
  func watch(_ descriptor: Int32, events: UInt32, add: Bool = true) throws(SystemError) {
    var event = epoll_event()
    event.events = events
    event.data.fd = descriptor
    let operation = add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
    guard epoll_ctl(fileDescriptor, operation, descriptor, &event) == 0 else {
      throw SystemError(operation: "epoll_ctl", errno: errno)
    }
  }

  /// Stops watching `descriptor`.
  func unwatch(_ descriptor: Int32) {
    var event = epoll_event()
    _ = epoll_ctl(fileDescriptor, EPOLL_CTL_DEL, descriptor, &event)
  }

  /// Waits up to `timeoutMilliseconds` (-1: forever) and returns the ready descriptors with
  /// their events. EINTR counts as a timeout.
  func wait(timeoutMilliseconds: Int32, into ready: inout [(Int32, UInt32)])
    throws(SystemError)
  {
    ready.removeAll(keepingCapacity: true)
    let count = epoll_wait(fileDescriptor, &events, Int32(events.count), timeoutMilliseconds)
    if count < 0 {
      if errno == EINTR { return }
      throw SystemError(operation: "epoll_wait", errno: errno)
    }
    for index in 0..<Int(count) { ready.append((events[index].data.fd, events[index].events)) }
  }
}

/// A failed system call, named with its errno.
public struct SystemError: Error, CustomStringConvertible {
  /// The system call (and what it was for, where that helps).
  public var operation: String
  /// The `errno` it failed with.
  public var errno: Int32

  /// The failure of `operation` with `errno`.
  public init(operation: String, errno: Int32) {
    self.operation = operation
    self.errno = errno
  }

  /// `operation failed: strerror(errno)`.
  public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
