import Glibc
import LinuxRuntime
import NetCore
import TCP
import Testing

@testable import netstackd

/// How long relayed and published TCP flows may live: `--relay-half-closed-timeout`, and the
/// keepalive and user timeout (`--tcp-keepalive`, `--tcp-user-timeout`) that the relays' host
/// sockets take from the stack's own settings.
struct FlowLifetimeOptionsTests {
  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func theHalfClosedTimeoutIsLinuxsFinTimeoutUnlessGiven() throws {
    #expect(
      try DaemonOptions(arguments: ["--tap", "t", "--relay"]).halfClosedTimeout == .seconds(7200))
    let given = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--relay-half-closed-timeout", "3",
    ])
    #expect(given.halfClosedTimeout == .seconds(3))
    let never = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--relay-half-closed-timeout", "0",
    ])
    #expect(never.halfClosedTimeout == nil)
    // Published ports have TCP flows too, given now or added through the control socket.
    #expect(
      refusal([
        "--tap", "t", "--publish", "tcp:8080=10.77.0.9:80", "--relay-half-closed-timeout", "5",
      ]) == nil)
    #expect(
      refusal(["--tap", "t", "--control", "/tmp/c", "--relay-half-closed-timeout", "5"]) == nil)
  }

  @Test func theHelpNamesTheOption() {
    #expect(DaemonOptions.help.contains("--relay-half-closed-timeout"))
  }

  @Test func aWrongHalfClosedTimeoutIsRefused() {
    #expect(
      refusal(["--tap", "t", "--relay", "--relay-half-closed-timeout", "soon"])
        == "--relay-half-closed-timeout: 'soon' is not a number of seconds from 0 to 86400")
    #expect(
      refusal(["--tap", "t", "--relay", "--relay-half-closed-timeout", "86401"])
        == "--relay-half-closed-timeout: '86401' is not a number of seconds from 0 to 86400")
    #expect(
      refusal(["--tap", "t", "--relay-half-closed-timeout", "5"])
        == "--relay-half-closed-timeout: only applies with --relay")
  }

  /// The host sockets get what the options say: read back from a real socket's options.
  @Test func hostSocketsTakeTheStacksKeepaliveAndUserTimeout() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--tcp-keepalive", "30,5,3", "--tcp-user-timeout", "45",
    ])
    let lifetime = options.hostSocketLifetime
    #expect(
      lifetime.keepalive == TCPKeepalive(idle: .seconds(30), interval: .seconds(5), probes: 3))
    #expect(lifetime.userTimeout == .seconds(45))
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #expect(descriptor >= 0)
    defer { close(descriptor) }
    #expect(lifetime.apply(to: descriptor))
    #expect(option(descriptor, SOL_SOCKET, SO_KEEPALIVE) == 1)
    #expect(option(descriptor, Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 30)
    #expect(option(descriptor, Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 5)
    #expect(option(descriptor, Int32(IPPROTO_TCP), TCP_KEEPCNT) == 3)
    #expect(option(descriptor, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT) == 45_000)
  }

  /// `--tcp-keepalive off` and `--tcp-user-timeout 0` leave the kernel's defaults alone.
  @Test func offLeavesTheKernelsDefaults() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--tcp-keepalive", "off", "--tcp-user-timeout", "0",
    ])
    #expect(options.hostSocketLifetime == HostSocketLifetime())
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    #expect(options.hostSocketLifetime.apply(to: descriptor))
    #expect(option(descriptor, SOL_SOCKET, SO_KEEPALIVE) == 0)
    #expect(option(descriptor, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT) == 0)
  }

  private func option(_ descriptor: Int32, _ level: Int32, _ name: Int32) -> Int32 {
    var value: Int32 = -1
    var length = socklen_t(MemoryLayout<Int32>.size)
    guard getsockopt(descriptor, level, name, &value, &length) == 0 else { return -1 }
    return value
  }
}
