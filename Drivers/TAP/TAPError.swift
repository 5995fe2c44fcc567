import Glibc

/// Why a TAP device could not be opened or used; each case reads as a one-line message.
public enum TAPError: Error, Equatable, CustomStringConvertible {
  /// `/dev/net/tun` is missing (no tun module, or a container without the device).
  case noTunDevice
  /// Opening the device or TUNSETIFF was refused (needs root or CAP_NET_ADMIN).
  case permissionDenied(String)
  /// Another process holds the TAP device.
  case busy(String)
  /// An interface of that name exists and is not a TAP device of ours.
  case notATAPDevice(String)
  /// The name is not a valid interface name.
  case invalidName(String)
  /// Another system call failed.
  case system(operation: String, errno: Int32)

  /// The error as one line, for a message that names the device.
  public var description: String {
    switch self {
    case .noTunDevice:
      "/dev/net/tun does not exist (load the tun module, or pass the device into the container)"
    case .permissionDenied(let name):
      "permission denied opening TAP device '\(name)' (run as root or with CAP_NET_ADMIN)"
    case .busy(let name):
      "TAP device '\(name)' is busy (another process has it open)"
    case .notATAPDevice(let name):
      "interface '\(name)' exists and is not a TAP device that can be attached"
    case .invalidName(let name):
      "'\(name)' is not a valid interface name (1 to 15 characters, no '/' or spaces)"
    case .system(let operation, let code):
      "\(operation) failed: \(String(cString: strerror(code)))"
    }
  }
}
