import CLinuxShims
import Glibc

/// Another network namespace, for `--netns PATH`: the TAP device is made there and its host
/// side configured there, while the daemon's own threads (the loop, the control socket, the
/// host sockets) stay in the namespace the daemon started in. Follows setns(2): joining a
/// network namespace (`CLONE_NEWNET`) moves only the calling thread, so the work runs on a
/// short-lived thread of its own (``run(_:)``) and the caller's thread never changes
/// namespace. A TAP descriptor opened there stays bound to its device after that thread ends.
final class NetworkNamespace {
  /// The path it was opened from (`/run/netns/NAME`, `/proc/PID/ns/net`).
  let path: String
  private let fileDescriptor: Int32

  /// Opens the namespace file at `path` and checks that it is a network namespace
  /// (ioctl `NS_GET_NSTYPE`).
  init(path: String) throws(OptionError) {
    let result = netstack_open_network_namespace(path)
    guard result >= 0 else {
      let problem =
        switch -result {
        case EINVAL: "'\(path)' is not a network namespace"
        case ENOENT, ENOTDIR: "'\(path)' does not exist"
        default: "cannot open '\(path)': \(String(cString: strerror(-result)))"
        }
      throw OptionError("--netns", problem)
    }
    self.path = path
    fileDescriptor = result
  }

  deinit { close(fileDescriptor) }

  /// Runs `body` on a thread inside the namespace and waits for it to finish. Throws (and
  /// `body` does not run) when the thread cannot join the namespace.
  func run(_ body: () -> Void) throws(OptionError) {
    let result = withoutActuallyEscaping(body) { escapable in
      let work = Unmanaged.passRetained(NamespaceWork(escapable))
      defer { work.release() }
      return netstack_run_in_network_namespace(
        fileDescriptor,
        { context in
          Unmanaged<NamespaceWork>.fromOpaque(context!).takeUnretainedValue().body()
        }, work.toOpaque())
    }
    guard result == 0 else {
      let problem =
        if -result == EPERM {
          "cannot enter '\(path)': permission denied (joining a network namespace needs CAP_SYS_ADMIN in the user namespace that owns it and in netstackd's own)"
        } else {
          "cannot enter '\(path)': \(String(cString: strerror(-result)))"
        }
      throw OptionError("--netns", problem)
    }
  }
}

/// The closure ``NetworkNamespace/run(_:)`` hands to the namespace thread.
private final class NamespaceWork {
  let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
}
