import ControlProtocol
import NetCore
import NetworkAPI
import Testing

@testable import netstackd

/// `--publish` and `--forward udp:` on the command line: what they set, and every refusal.
struct DaemonOptionsPublishTests {
  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func publishIsRepeatable() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--publish", "tcp:8080=10.0.2.15:80", "--publish",
      "udp:127.0.0.1:5353=10.0.2.15:53",
    ])
    #expect(
      options.publishes == [
        try PublishSpec.parse("tcp:8080=10.0.2.15:80"),
        try PublishSpec.parse("udp:127.0.0.1:5353=10.0.2.15:53"),
      ])
  }

  @Test func theSameHostPortOnTwoTransportsIsTwoPorts() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--publish", "tcp:53=10.77.0.9:53", "--publish", "udp:53=10.77.0.9:53",
    ])
    #expect(options.publishes.count == 2)
  }

  @Test func theTwoFamiliesWildcardsAreTwoPorts() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--publish", "tcp:8080=10.0.2.15:80", "--publish",
      "tcp:[::]:8080=[fd00::100]:80", "--publish", "udp:[::1]:5353=10.0.2.15:53",
    ])
    #expect(
      options.publishes.map(\.description) == [
        "tcp:0.0.0.0:8080=10.0.2.15:80", "tcp:[::]:8080=[fd00::100]:80",
        "udp:[::1]:5353=10.0.2.15:53",
      ])
  }

  /// No IPv6 runs below a 1280-byte MTU (RFC 8200 §5): an IPv6 guest's port would never
  /// answer, so it is refused, naming the option; an IPv4 guest's is not.
  @Test(arguments: ["udp:7070=[fd00::100]:7007", "tcp:[::]:8080=[fd00::100]:80"])
  func anIPv6GuestNeedsIPv6(_ spec: String) throws {
    let why = refusal(["--tap", "t", "--relay", "--mtu", "1200", "--publish", spec])
    #expect(why?.hasPrefix("--publish") == true)
    #expect(why?.contains("IPv6") == true)
    #expect(
      refusal(["--tap", "t", "--relay", "--mtu", "1200", "--publish", "udp:7070=10.0.2.15:7007"])
        == nil)
    #expect(refusal(["--tap", "t", "--relay", "--mtu", "1280", "--publish", spec]) == nil)
  }

  @Test func forwardTakesUDP() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--forward", "udp:5000=10.77.0.1:7007", "--forward", "tcp:8080=10.77.0.1:80",
    ])
    #expect(
      options.udpForwards == [
        DaemonOptions.Forward(port: 5000, target: SocketAddress(IPv4Address(10, 77, 0, 1), 7007))
      ])
    #expect(options.forwards.count == 1)
  }

  @Test(arguments: [
    (
      ["--tap", "t", "--publish", "8080=10.0.2.15:80"],
      "--publish: '8080=10.0.2.15:80': does not start with tcp: or udp:"
    ),
    (
      ["--tap", "t", "--publish", "tcp:0=10.0.2.15:80"],
      "--publish: 'tcp:0=10.0.2.15:80': the host port is not a number from 1 to 65535"
    ),
    (
      ["--tap", "t", "--publish", "tcp:8080=127.0.0.1:80"],
      "--publish: 'tcp:8080=127.0.0.1:80': the guest address is not a unicast IPv4 address or an IPv6 one in brackets (not 0.0.0.0, ::, loopback, multicast, link-local or IPv4-mapped)"
    ),
    (["--tap", "t", "--publish", ""], "--publish: '': does not start with tcp: or udp:"),
    (["--tap", "t", "--publish"], "--publish: needs a value"),
    (
      ["--tap", "t", "--publish", "tcp:80=10.0.2.15:80", "--publish", "tcp:80=10.0.2.16:81"],
      "--publish: tcp 0.0.0.0:80 is published twice"
    ),
    (
      [
        "--tap", "t", "--publish", "tcp:1.2.3.4:80=10.0.2.15:80", "--publish",
        "tcp:80=10.0.2.16:81",
      ],
      "--publish: tcp 0.0.0.0:80 is published twice"
    ),
    (
      [
        "--tap", "t", "--publish", "udp:[::]:53=[fd00::100]:53", "--publish",
        "udp:[fd77::2]:53=10.0.2.16:53",
      ],
      "--publish: udp [fd77::2]:53 is published twice"
    ),
    (
      ["--tap", "t", "--publish", "tcp:[::1:80=10.0.2.15:80"],
      "--publish: 'tcp:[::1:80=10.0.2.15:80': is not tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT (an IPv6 address in brackets: [fd00::100]:80)"
    ),
    (
      ["--backend", "socket", "--publish", "tcp:80=10.0.2.15:80"],
      "--publish: needs the direct backend (a device with guests behind it)"
    ),
    (
      ["--backend", "socket", "--forward", "udp:80=10.0.2.15:80"],
      "--forward: udp: needs the direct backend"
    ),
    (
      ["--tap", "t", "--forward", "udp:5000=10.77.0.1"],
      "--forward: 'udp:5000=10.77.0.1' is not udp:PORT=HOST:PORT"
    ),
    (
      ["--tap", "t", "--forward", "udp:0=10.77.0.1:7"],
      "--forward: 'udp:0=10.77.0.1:7' is not udp:PORT=HOST:PORT"
    ),
    (
      ["--tap", "t", "--forward", "udp:5=10.77.0.1:7", "--forward", "udp:5=10.77.0.2:7"],
      "--forward: the same UDP port is forwarded twice"
    ),
  ])
  func refusals(arguments: [String], message: String) {
    #expect(refusal(arguments) == message)
  }

  @Test func tooManyPorts() {
    var arguments = ["--tap", "t"]
    for port in 1...(PublishedPortTable.maximumPorts + 1) {
      arguments += ["--publish", "tcp:\(port)=10.77.0.9:80"]
    }
    #expect(refusal(arguments) == "--publish: more than \(PublishedPortTable.maximumPorts) ports")
  }

  @Test func theHelpDescribesThem() {
    #expect(DaemonOptions.help.contains("--publish \(PublishSpec.form)"))
    #expect(DaemonOptions.help.contains("--forward tcp|udp:PORT=HOST:PORT"))
  }
}
