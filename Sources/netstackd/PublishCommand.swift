import ControlProtocol
import Glibc
import LinuxRuntime
import NetCore

/// `netstackd publish --control PATH add|remove|list [SPEC] [--json]`: changes or lists the
/// published ports of a running daemon over its control socket (``ControlRequest``). Exits 0
/// when the daemon did it, 1 when it answered an error (a taken port, a bad spec) or could
/// not be reached, 2 for a wrong command line.
enum PublishCommand {
  static let usage = """
    usage: netstackd publish --control PATH add SPEC
           netstackd publish --control PATH remove SPEC
           netstackd publish --control PATH list [--json]
      SPEC is \(PublishSpec.form) (HOSTADDR defaults to 0.0.0.0;
      an IPv6 address in brackets: tcp:[::1]:8080=[fd00::100]:80);
      remove needs only the host side to match (tcp|udp:[HOSTADDR:]HOSTPORT=...)
    """

  static func run(_ arguments: [String]) -> Int32 {
    var path: String? = nil
    var json = false
    var words: [String] = []
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      switch argument {
      case "--control":
        guard let value = remaining.popFirst() else {
          return usageError("--control: needs a value")
        }
        path = value
      case "--json": json = true
      case "-h", "--help":
        print(usage)
        return 0
      default:
        if argument.hasPrefix("-") { return usageError("publish: unknown option '\(argument)'") }
        words.append(argument)
      }
    }
    guard let path else { return usageError("publish: --control PATH is required") }
    let request: String
    switch words.first {
    case "list" where words.count == 1:
      request = json ? "publish list json\n" : "publish list\n"
    case "add" where words.count == 2, "remove" where words.count == 2:
      do {
        _ = try PublishSpec.parse(words[1])
      } catch {
        writeStandardError("netstackd: publish \(words[0]): '\(words[1])': \(error)\n")
        return 1
      }
      request = "publish \(words[0]) \(words[1])\n"
    default:
      return usageError("publish: expected add SPEC, remove SPEC or list")
    }
    let descriptor = ControlServer.connect(path)
    guard descriptor >= 0 else {
      writeStandardError(
        "netstackd: --control \(path): \(String(cString: strerror(-descriptor))) (is the daemon running with --control?)\n"
      )
      return 1
    }
    let answer = StatusCommand.exchange(
      descriptor, request: request, deadline: MonotonicClock.now() + .seconds(10))
    close(descriptor)
    guard !answer.isEmpty else {
      writeStandardError("netstackd: --control \(path): no answer from the daemon within 10 s\n")
      return 1
    }
    let text = String(decoding: answer, as: UTF8.self)
    if text.hasPrefix("error: ") {
      writeStandardError("netstackd: publish: \(text.dropFirst(7))")
      return 1
    }
    print(text, terminator: "")
    return 0
  }

  private static func usageError(_ message: String) -> Int32 {
    writeStandardError("netstackd: \(message)\n\(usage)\n")
    return 2
  }
}
