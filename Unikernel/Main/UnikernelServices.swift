import Applications
import NetCore
import NetStack
import TCP

/// The services the unikernel runs: HTTP on port 80 and echo on port 7, the same handlers as
/// netstackd's (`Applications`), stepped by the stack at each flush; ICMP echo is the
/// stack's own.
public enum UnikernelServices {
  /// Starts them on `stack`; `platform` names what the stack runs on, for the HTTP page.
  public static func start(on stack: inout DirectStack, platform: String) throws(TCPError) {
    let http = HTTPServer(platform: platform, budget: stack.budget)
    try stack.startService(.http(http), port: 80)
    try stack.startService(.echo, port: 7)
  }
}
