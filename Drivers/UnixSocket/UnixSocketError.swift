import Glibc

/// Why the Unix-socket frame link could not be set up or went away; each reads as one line.
public enum UnixSocketError: Error, Equatable, CustomStringConvertible {
  /// The path is longer than a Unix socket address holds (107 bytes).
  case pathTooLong(String)
  /// Nothing listens at the path (connect mode).
  case noListener(String)
  /// The path exists and is in use, or cannot be created (listen mode).
  case cannotListen(String, Int32)
  /// The peer closed the connection (connect mode: the daemon stops).
  case peerClosed(String)
  /// The peer sent a length prefix no Ethernet frame can have (connect mode: the daemon stops).
  case badFrameLength(String, Int)
  /// Another system call failed.
  case system(operation: String, errno: Int32)

  public var description: String {
    switch self {
    case .pathTooLong(let path): "socket path '\(path)' is too long (at most 107 bytes)"
    case .noListener(let path):
      "nothing listens on '\(path)' (start QEMU or passt first, or use --unix-listen)"
    case .cannotListen(let path, let code):
      "cannot listen on '\(path)': \(String(cString: strerror(code)))"
    case .peerClosed(let path): "the peer on '\(path)' closed the connection"
    case .badFrameLength(let path, let length):
      "the peer on '\(path)' sent a frame length of \(length) bytes (an Ethernet frame has 1 to \(UnixSocketDevice.maximumFrameLength)); closed the connection"
    case .system(let operation, let code): "\(operation) failed: \(String(cString: strerror(code)))"
    }
  }
}
