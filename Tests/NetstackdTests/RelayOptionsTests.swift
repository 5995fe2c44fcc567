import NetCore
import NetStack
import Testing

@testable import netstackd

/// `--relay` and its options: slirp's address plan when nothing is given, every address
/// settable, and a one-line refusal for every value that cannot work.
struct RelayOptionsTests {
  private func parse(_ arguments: [String]) throws(OptionError) -> DaemonOptions {
    try DaemonOptions(arguments: arguments)
  }

  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  private func address(_ text: String) -> IPv4Address { try! IPv4Address(parsing: text) }

  @Test func theAddressPlanWithoutOptions() throws {
    let options = try parse(["--tap", "tap0", "--relay"])
    #expect(options.stackAddress == IPv4CIDR(address: address("10.0.2.2"), prefixLength: 24))
    #expect(options.dnsAddress == address("10.0.2.3"))
    #expect(options.dhcpServerPool == address("10.0.2.15")...address("10.0.2.254"))
    #expect(options.dhcpDNS == [address("10.0.2.3")])
    #expect(options.hostAddress == DaemonOptions.HostAddress.none)
    #expect(options.resolvConf == nil)
    #expect(options.denied.isEmpty && options.hostLoopback == nil)
    #expect(options.relayPolicy.decision(for: address("127.0.0.1")) == .refuse(.reserved))
  }

  /// A QEMU guest over the Unix socket gets the same plan; it has no host side to leave alone.
  @Test func theAddressPlanOnAUnixSocket() throws {
    for device in ["--unix-listen", "--unix"] {
      let options = try parse([device, "/tmp/netstackd.sock", "--relay"])
      #expect(options.stackAddress == IPv4CIDR(address: address("10.0.2.2"), prefixLength: 24))
      #expect(options.dnsAddress == address("10.0.2.3"))
      #expect(options.dhcpServerPool == address("10.0.2.15")...address("10.0.2.254"))
      #expect(options.hostAddress == nil)
    }
    #expect(
      refusal(["--unix-listen", "/tmp/netstackd.sock", "--relay", "--host-ip", "10.0.2.9/24"])
        == "--host-ip: only applies to a TAP device")
  }

  @Test func everyAddressIsSettable() throws {
    let options = try parse([
      "--tap", "tap0", "--relay", "--ip", "192.168.50.1/24", "--dns-address", "192.168.50.53",
      "--dhcp-server", "192.168.50.100-192.168.50.110", "--dhcp-dns", "192.168.50.53",
      "--resolv-conf", "/tmp/r.conf", "--deny", "198.51.100.0/24", "--deny", "203.0.113.9",
      "--host-loopback", "192.168.50.2", "--host-ip", "192.168.50.9/24", "--relay-flows", "64",
      "--relay-idle-timeout", "5",
    ])
    #expect(options.relayFlows == 64 && options.relayIdleTimeout == 5)
    #expect(options.stackAddress == IPv4CIDR(address: address("192.168.50.1"), prefixLength: 24))
    #expect(options.dnsAddress == address("192.168.50.53"))
    #expect(options.dhcpServerPool == address("192.168.50.100")...address("192.168.50.110"))
    #expect(options.resolvConf == "/tmp/r.conf")
    #expect(options.denied.map(\.description) == ["198.51.100.0/24", "203.0.113.9/32"])
    #expect(options.hostLoopback == address("192.168.50.2"))
    #expect(
      options.relayPolicy.decision(for: address("192.168.50.2"))
        == .relay(hostAddress: .v4(address("127.0.0.1"))))
    #expect(options.relayPolicy.decision(for: address("198.51.100.7")) == .refuse(.denied))
    // The planned DNS of another network is its third host; 'none' turns DNS off.
    #expect(
      try parse(["--tap", "t", "--relay", "--ip", "172.16.0.1/16"]).dnsAddress
        == address("172.16.0.3"))
    let without = try parse(["--tap", "t", "--relay", "--dns-address", "none"])
    #expect(without.dnsAddress == nil && without.dhcpDNS.isEmpty)
  }

  @Test func hostLoopbackTakesOneAddressOfEachFamily() throws {
    let options = try parse([
      "--tap", "t", "--relay", "--host-loopback", "fd00::4", "--host-loopback", "10.0.2.4",
    ])
    #expect(options.hostLoopback == address("10.0.2.4"))
    let loopback6 = try IPv6Address(parsing: "fd00::4")
    #expect(options.hostLoopbackIPv6 == loopback6)
    // Inside the guests' prefix, yet relayed to the host's ::1 rather than refused.
    #expect(options.relayPolicy.decision(for: loopback6) == .relay(hostAddress: .v6(.loopback)))
    #expect(
      options.relayPolicy.decision(for: try IPv6Address(parsing: "fd00::5"))
        == .refuse(.guestSubnet))
    #expect(
      try parse(["--tap", "t", "--relay"]).relayPolicy.decision(for: loopback6)
        == .refuse(.guestSubnet))
  }

  @Test(
    arguments: [
      (["--tap", "t", "--deny", "10.0.0.0/8"], "--deny: only applies with --relay"),
      (
        ["--tap", "t", "--host-loopback", "10.0.2.4"], "--host-loopback: only applies with --relay"
      ),
      (["--tap", "t", "--dns-address", "10.0.2.3"], "--dns-address: only applies with --relay"),
      (["--tap", "t", "--resolv-conf", "/x"], "--resolv-conf: only applies with --relay"),
      (
        ["--tap", "t", "--relay", "--dhcp"],
        "--relay: needs a fixed address: it cannot be combined with --dhcp"
      ),
      (
        ["--backend", "socket", "--relay"],
        "--relay: has no meaning with --backend socket (there is no device)"
      ),
      (
        ["--tap", "t", "--relay", "--dns-address", "10.0.3.3"],
        "--dns-address: '10.0.3.3' is not another host inside 10.0.2.0/24"
      ),
      (
        ["--tap", "t", "--relay", "--dns-address", "10.0.2.2"],
        "--dns-address: '10.0.2.2' is not another host inside 10.0.2.0/24"
      ),
      (
        ["--tap", "t", "--relay", "--ip", "10.0.2.3/24"],
        "--dns-address: the planned 10.0.2.3 is the stack's own address; give one"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "127.0.0.1"],
        "--host-loopback: '127.0.0.1' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "10.0.2.3"],
        "--host-loopback: '10.0.2.3' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--host-loopback", "fd00::4"], "--host-loopback: only applies with --relay"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "fd00::2"],
        "--host-loopback: 'fd00::2' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "fd00::3"],
        "--host-loopback: 'fd00::3' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "fe80::4"],
        "--host-loopback: 'fe80::4' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "::1"],
        "--host-loopback: '::1' is not an address of its own for the host's loopback"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "fd00::4", "--host-loopback", "fd00::5"],
        "--host-loopback: an IPv6 address is given twice"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "10.0.2.4", "--host-loopback", "10.0.2.5"],
        "--host-loopback: an IPv4 address is given twice"
      ),
      (
        ["--tap", "t", "--relay", "--host-loopback", "10.0.2.20"],
        "--dhcp-server: the planned pool 10.0.2.15-10.0.2.254 holds one of the stack's addresses; give one"
      ),
      (
        ["--tap", "t", "--relay", "--ip", "10.0.2.2/29"],
        "--relay: the --ip network 10.0.2.0/29 is too small for a guest network"
      ),
      (["--tap", "t", "--relay-flows", "8"], "--relay-flows: only applies with --relay"),
      (
        ["--tap", "t", "--relay-idle-timeout", "8"],
        "--relay-idle-timeout: only applies with --relay"
      ),
      (
        ["--tap", "t", "--relay", "--relay-flows", "0"],
        "--relay-flows: '0' is not a number from 1 to 16384"
      ),
      (
        ["--tap", "t", "--relay", "--relay-flows", "16385"],
        "--relay-flows: '16385' is not a number from 1 to 16384"
      ),
      (
        ["--tap", "t", "--relay", "--relay-idle-timeout", "0"],
        "--relay-idle-timeout: '0' is not a number of seconds from 1 to 86400"
      ),
      (["--tap", "t", "--relay", "--deny", "10.0.0.0/33"], nil),
    ] as [([String], String?)])
  func badValuesAreRefusedInOneLine(_ arguments: [String], _ message: String?) {
    let refused = refusal(arguments)
    if let message {
      #expect(refused == message)
    } else {
      #expect(refused?.hasPrefix("--deny: ") == true)
    }
  }

  @Test func deniedIPv6RangesAndTheGuestsPrefix() throws {
    let options = try parse([
      "--tap", "t", "--relay", "--ip6", "fd00::2/64", "--deny", "fd01::3", "--deny",
      "2001:db8::/32", "--deny", "198.51.100.0/24",
    ])
    #expect(options.deniedIPv6.map(\.description) == ["fd01::3/128", "2001:db8::/32"])
    #expect(options.denied.map(\.description) == ["198.51.100.0/24"])
    let policy = options.relayPolicy
    let v6 = { (text: String) in try! IPv6Address(parsing: text) }
    #expect(policy.decision(for: v6("fd01::3")) == .refuse(.denied))
    #expect(policy.decision(for: v6("2001:db8:5::1")) == .refuse(.denied))
    #expect(policy.decision(for: v6("fd00::77")) == .refuse(.guestSubnet))
    #expect(policy.decision(for: v6("fd01::2")) == .relay(hostAddress: .v6(v6("fd01::2"))))
    #expect(
      refusal(["--tap", "t", "--relay", "--deny", "fd01::/129"])?.hasPrefix("--deny: ") == true)
    #expect(refusal(["--tap", "t", "--deny", "fd01::/64"]) == "--deny: only applies with --relay")
    // One bound for both families.
    let many = (0..<64).flatMap { ["--deny", "fd01:\($0)::/64"] }
    #expect(
      refusal(["--tap", "t", "--relay", "--deny", "10.0.0.0/8"] + many)
        == "--deny: more than 64 ranges")
  }

  @Test func atMost64DeniedRanges() {
    let many = (0..<65).flatMap { ["--deny", "198.51.\($0).0/24"] }
    #expect(refusal(["--tap", "t", "--relay"] + many) == "--deny: more than 64 ranges")
    #expect(refusal(["--tap", "t", "--relay"] + many.dropLast(2)) == nil)
  }

  @Test func theHelpNamesTheRelayOptions() {
    let help = DaemonOptions.help
    for option in [
      "--relay", "--dns-address", "--resolv-conf", "--deny", "--host-loopback", "--relay-flows",
      "--relay-idle-timeout",
    ] {
      #expect(help.contains(option))
    }
  }
}
