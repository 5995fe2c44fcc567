import Applications
import NetCore
import NetStack

/// The services the unikernel runs: exactly netstackd's default list (``ServiceKind/defaults``:
/// HTTP on 80, echo on TCP and UDP 7, discard on 9, chargen on 19), started by the same code
/// as netstackd's direct backend (`DirectStack.startService(_:port:http:)`), with the same
/// handlers (`Applications`), stepped by the stack at each flush; ICMP echo is the stack's
/// own.
public enum UnikernelServices {
  /// The services and their ports.
  public static var list: [(kind: ServiceKind, port: UInt16)] { ServiceKind.defaults }

  /// What the console says it serves: `icmp echo, tcp http:80,echo:7,..., udp echo:7`.
  public static var summary: String {
    let udp = list.filter { $0.kind.udpService(port: $0.port) != nil }
    return "icmp echo, tcp \(ServiceKind.describe(list)), udp \(ServiceKind.describe(udp))"
  }

  /// Starts them on `stack`; `platform` names what the stack runs on, for the HTTP page.
  public static func start(on stack: inout DirectStack, platform: String)
    throws(ServiceStartError)
  {
    let budget = stack.budget
    for (kind, port) in list {
      try stack.startService(kind, port: port) {
        HTTPServer(platform: platform, budget: budget)
      }
    }
  }
}
