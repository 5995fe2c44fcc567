import Glibc
import LinuxRuntime
import NetCore

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
    // A daemon that accepts but never answers (stopped, say) must not hang the command, and
    // one that is serving its most clients closes this one at once: try again until 10 s.
    let deadline = MonotonicClock.now() + .seconds(10)
    var answer: [UInt8] = []
    while true {
      let descriptor = ControlServer.connect(path)
      guard descriptor >= 0 else {
        writeStandardError(
          "netstackd: --control \(path): \(String(cString: strerror(-descriptor))) (is the daemon running with --control?)\n"
        )
        return 1
      }
      answer = exchange(
        descriptor, request: json ? "status json\n" : "status\n", deadline: deadline)
      close(descriptor)
      if !answer.isEmpty || MonotonicClock.now() >= deadline { break }
      usleep(100_000)
    }
    guard !answer.isEmpty else {
      writeStandardError("netstackd: --control \(path): no answer from the daemon within 10 s\n")
      return 1
    }
    print(String(decoding: answer, as: UTF8.self), terminator: "")
    return 0
  }

  /// Sends the request on a connected control socket and reads the answer until the daemon
  /// closes, the deadline passes, or the connection fails; returns what arrived.
  static func exchange(_ descriptor: Int32, request: String, deadline: Instant) -> [UInt8] {
    let remaining = max(deadline - MonotonicClock.now(), .milliseconds(1))
    var timeout = timeval(
      tv_sec: Int(remaining.seconds), tv_usec: Int(remaining.microseconds % 1_000_000))
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let request = Array(request.utf8)
    let sent = request.withUnsafeBytes {
      send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
    }
    guard sent == request.count else { return [] }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
      if count <= 0 { break }
      answer.append(contentsOf: buffer[0..<count])
    }
    return answer
  }
}
