import NetCore
import NetStack
import Testing

/// What a guest may reach through the relay: never the host's loopback unless mapped, never
/// reserved addresses or its own subnet, never a `--deny` range.
struct RelayDestinationPolicyTests {
  static let subnet = IPv4CIDR(address: IPv4Address(10, 0, 2, 2), prefixLength: 24)

  func address(_ text: String) -> IPv4Address { try! IPv4Address(parsing: text) }

  @Test func ordinaryHostsAreRelayedAsTheyAre() {
    let policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    #expect(
      policy.decision(for: address("192.0.2.1")) == .relay(hostAddress: .v4(address("192.0.2.1"))))
    #expect(
      policy.decision(for: address("10.0.3.1")) == .relay(hostAddress: .v4(address("10.0.3.1"))))
  }

  @Test(arguments: [
    "127.0.0.1", "127.1.2.3", "0.0.0.1", "169.254.1.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255",
  ])
  func reservedAddressesAreRefused(_ text: String) {
    let policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    #expect(policy.decision(for: address(text)) == .refuse(.reserved))
  }

  @Test func theGuestsOwnSubnetIsRefused() {
    let policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    #expect(policy.decision(for: address("10.0.2.99")) == .refuse(.guestSubnet))
  }

  @Test func theHostLoopbackAddressMapsTo127001() {
    var policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    policy.hostLoopback = address("10.0.2.4")
    #expect(
      policy.decision(for: address("10.0.2.4")) == .relay(hostAddress: .v4(address("127.0.0.1"))))
    #expect(policy.decision(for: address("127.0.0.1")) == .refuse(.reserved))
  }

  @Test func deniedRangesWinAndAreBounded() {
    var policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    policy.hostLoopback = address("10.9.0.1")
    let first = policy.deny(IPv4CIDR(address: address("10.9.0.77"), prefixLength: 16))
    #expect(first)
    #expect(policy.denied == [IPv4CIDR(address: address("10.9.0.0"), prefixLength: 16)])
    #expect(policy.decision(for: address("10.9.200.1")) == .refuse(.denied))
    #expect(policy.decision(for: address("10.9.0.1")) == .refuse(.denied))
    #expect(
      policy.decision(for: address("10.10.0.1")) == .relay(hostAddress: .v4(address("10.10.0.1"))))
    for _ in 1..<RelayDestinationPolicy.maximumDeniedRanges {
      let more = policy.deny(IPv4CIDR(address: address("198.51.100.0"), prefixLength: 24))
      #expect(more)
    }
    let beyond = policy.deny(IPv4CIDR(address: address("203.0.113.0"), prefixLength: 24))
    #expect(!beyond)
    #expect(policy.denied.count == RelayDestinationPolicy.maximumDeniedRanges)
  }

  // MARK: IPv6

  func address6(_ text: String) -> IPv6Address { try! IPv6Address(parsing: text) }

  /// The policy with the guests' prefix fd00::/64.
  func policy6() -> RelayDestinationPolicy {
    var policy = RelayDestinationPolicy(guestSubnet: Self.subnet)
    policy.guestPrefixes = [IPv6CIDR(address: address6("fd00::"), prefixLength: 64)]
    return policy
  }

  @Test(arguments: ["2001:db8::1", "fd01::2", "2a00:1450:4001:81c::200e"])
  func globalIPv6AddressesAreRelayedAsTheyAre(_ text: String) {
    #expect(
      policy6().decision(for: .v6(address6(text))) == .relay(hostAddress: .v6(address6(text))))
  }

  @Test(arguments: ["::", "::1", "fe80::1", "ff02::1", "ff0e::1", "::ffff:a00:1"])
  func reservedIPv6AddressesAreRefused(_ text: String) {
    #expect(policy6().decision(for: .v6(address6(text))) == .refuse(.reserved))
  }

  @Test func theGuestsOwnIPv6PrefixIsRefused() {
    #expect(policy6().decision(for: address6("fd00::99")) == .refuse(.guestSubnet))
    #expect(
      policy6().decision(for: address6("fd00:0:0:1::99"))
        == .relay(hostAddress: .v6(address6("fd00:0:0:1::99"))))
  }

  @Test func deniedIPv6RangesWinAndShareTheBound() {
    var policy = policy6()
    let added = policy.deny(IPv6CIDR(address: address6("fd01::77"), prefixLength: 64))
    #expect(added)
    #expect(policy.deniedIPv6 == [IPv6CIDR(address: address6("fd01::"), prefixLength: 64)])
    #expect(policy.decision(for: address6("fd01::2")) == .refuse(.denied))
    #expect(
      policy.decision(for: address6("fd01:0:0:1::2"))
        == .relay(hostAddress: .v6(address6("fd01:0:0:1::2"))))
    // IPv4 ranges are another family's: IPv4 is unaffected.
    #expect(
      policy.decision(for: .v4(address("10.10.0.1")))
        == .relay(hostAddress: .v4(address("10.10.0.1"))))
    for _ in 1..<RelayDestinationPolicy.maximumDeniedRanges {
      let more = policy.deny(IPv4CIDR(address: address("198.51.100.0"), prefixLength: 24))
      #expect(more)
    }
    let beyond = policy.deny(IPv6CIDR(address: address6("2001:db8::"), prefixLength: 32))
    #expect(!beyond)
    #expect(policy.deniedCount == RelayDestinationPolicy.maximumDeniedRanges)
  }
}
