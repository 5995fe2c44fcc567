import NetCore

/// How a ``TAPDevice`` hands its frames to the kernel.
///
/// A frame written to a TAP is received by the host inside the `write(2)` that writes it: its
/// IP and TCP input, the receiver's wake-up and its ACK all run in that system call, on the
/// daemon's thread. With io_uring (`io_uring_setup(2)`, Linux 5.1) the frames of one poll go
/// to the kernel as `IORING_OP_WRITE` submissions: all of them with one `io_uring_enter(2)`,
/// or, with `SQPOLL`, with none, a kernel thread of the process taking them from the shared
/// ring and writing them (the work then runs beside the daemon's thread, on another CPU when
/// there is one: what vhost-net does for a VM's virtio queue).
public enum TAPWriteMode: Sendable, Equatable, CustomStringConvertible {
  /// One `write(2)` per frame.
  case write
  /// io_uring: the frames of a poll as one batch of writes, one `io_uring_enter(2)`.
  case ioURing
  /// io_uring with a kernel submission thread (`IORING_SETUP_SQPOLL`) that sleeps after
  /// `idle` without frames.
  case ioURingSubmissionThread(idle: Interval)

  /// The submission thread's idle time before it sleeps, by default: 1 ms.
  public static let defaultSubmissionThreadIdle = Interval.milliseconds(1)

  /// Words for status pages and the command line: "write", "io_uring", "io_uring-sqpoll".
  public var description: String {
    switch self {
    case .write: "write"
    case .ioURing: "io_uring"
    case .ioURingSubmissionThread(let idle): "io_uring-sqpoll (idle \(idle.microseconds) us)"
    }
  }
}
