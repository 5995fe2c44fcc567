import Glibc

/// Why the Linux Xen platform failed; each case reads as a one-line message.
public enum XenLinuxError: Error, Equatable, CustomStringConvertible {
  /// A device node could not be opened (module not loaded, not a Xen guest, not root).
  case cannotOpen(path: String, errno: Int32)
  /// A system call on one of the devices failed.
  case system(operation: String, errno: Int32)
  /// xenstored answered a request with an error (`XS_ERROR`: `EACCES`, `EINVAL`, ...).
  case xenstore(operation: String, path: String, error: String)
  /// The xenbus device sent something that is not an xs_wire message.
  case malformedMessage(String)

  public var description: String {
    switch self {
    case .cannotOpen(let path, let code):
      "cannot open \(path): \(String(cString: strerror(code)))"
        + (code == ENOENT ? " (is this a Xen guest with xen-evtchn and xen-gntalloc loaded?)" : "")
    case .system(let operation, let code):
      "\(operation) failed: \(String(cString: strerror(code)))"
    case .xenstore(let operation, let path, let error):
      "xenstore \(operation) \(path): \(error)"
    case .malformedMessage(let what):
      "malformed message from the xenbus device: \(what)"
    }
  }
}
