import NetCore
import NetworkAPI
import Testing

@testable import netstackd

/// `--forward tcp:PORT=[ADDR]:PORT`: a forward to an IPv6 host address, the address in
/// brackets (RFC 3986 §3.2.2), and every malformed form refused in one line naming the option
/// (exit status 2 in `netstackd`, which the e2e test `forward` checks).
struct ForwardIPv6OptionsTests {
  /// The message a command line is refused with, or nil if it is accepted.
  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func aBracketedIPv6TargetIsTaken() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--forward", "tcp:8080=[fd77::1]:80", "--forward", "tcp:8081=[::1]:8081",
      "--forward", "tcp:8082=10.77.0.1:80",
    ])
    #expect(
      options.forwards == [
        .init(port: 8080, target: SocketAddress(.v6(try IPv6Address(parsing: "fd77::1")), 80)),
        .init(port: 8081, target: SocketAddress(.v6(.loopback), 8081)),
        .init(port: 8082, target: SocketAddress(IPv4Address(10, 77, 0, 1), 80)),
      ])
    #expect(options.forwards[0].target.description == "[fd77::1]:80")
  }

  @Test(arguments: [
    "tcp:8080=fd77::1:80", "tcp:8080=[fd77::1:80", "tcp:8080=fd77::1]:80", "tcp:8080=[fd77::1]",
    "tcp:8080=[fd77::1]:", "tcp:8080=[fd77::1]:0", "tcp:8080=[fd77::1]:65536",
    "tcp:8080=[fd77::1]80", "tcp:8080=[10.0.0.1]:80", "tcp:8080=[]:80", "tcp:8080=[fd77::1]:80x",
    "tcp:8080=[fd77::g]:80", "tcp:8080=[fd77::1%eth0]:80",
  ])
  func aMalformedIPv6TargetIsRefusedNamingTheOption(rule: String) {
    #expect(
      refusal(["--tap", "t", "--forward", rule]) == "--forward: '\(rule)' is not tcp:PORT=HOST:PORT"
    )
  }

  @Test(arguments: ["fe80::1", "ff02::1", "::"])
  func aLinkLocalMulticastOrUnspecifiedTargetIsRefused(address: String) {
    let rule = "tcp:8080=[\(address)]:80"
    #expect(
      refusal(["--tap", "t", "--forward", rule])
        == "--forward: '\(rule)': \(address) is not a unicast address (a link-local one would need a zone)"
    )
  }
}
