import Glibc
import LinuxRuntime

/// `netstackd status --control PATH [--json]`: asks a running daemon for its status over its
/// control socket and prints the answer.
enum StatusCommand {
  static let usage = "usage: netstackd status --control PATH [--json]"

  /// Runs the command; returns the exit status.
  static func run(_ arguments: [String]) -> Int32 {
    var path: String? = nil
    var json = false
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      switch argument {
      case "--control":
        guard let value = remaining.popFirst() else {
          writeStandardError("netstackd: --control: needs a value\n\(usage)\n")
          return 2
        }
        path = value
      case "--json": json = true
      case "-h", "--help":
        print(usage)
        return 0
      default:
        writeStandardError("netstackd: status: unknown argument '\(argument)'\n\(usage)\n")
        return 2
      }
    }
    guard let path else {
      writeStandardError("netstackd: status: --control PATH is required\n\(usage)\n")
      return 2
    }
    let descriptor = ControlServer.connect(path)
    guard descriptor >= 0 else {
      writeStandardError(
        "netstackd: --control \(path): \(String(cString: strerror(-descriptor))) (is the daemon running with --control?)\n"
      )
      return 1
    }
    defer { close(descriptor) }
    // A daemon that accepts but never answers (stopped, say) must not hang the command.
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array((json ? "status json\n" : "status\n").utf8)
    _ = request.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count <= 0 { break }
      answer.append(contentsOf: buffer[0..<count])
    }
    guard !answer.isEmpty else {
      writeStandardError("netstackd: --control \(path): no answer from the daemon within 10 s\n")
      return 1
    }
    print(String(decoding: answer, as: UTF8.self), terminator: "")
    return 0
  }
}
