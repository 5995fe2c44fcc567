import IPv6
import NetCore
import Testing

@testable import netstackd

/// Relay mode's IPv6 plan (`--router-adv`, `--ra-prefix`, `--ra-dns`, `--dns-address6`):
/// slirp4netns's fd00::/64 with the stack at fd00::2 and the relay's DNS at fd00::3, advertised
/// as the DNS server, when nothing is given; every part settable, and a one-line refusal for
/// every value that cannot work.
struct RouterAdvertisementOptionsTests {
  private func cidr(_ text: String) -> IPv6CIDR { try! IPv6CIDR(parsing: text) }
  private func address(_ text: String) -> IPv6Address { try! IPv6Address(parsing: text) }

  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func thePlanWithoutOptions() throws {
    let options = try DaemonOptions(arguments: ["--tap", "tap0", "--relay"])
    #expect(options.ipv6Addresses == [cidr("fd00::2/64")])
    #expect(options.advertisedPrefix == cidr("fd00::/64"))
    #expect(options.dnsAddress6 == address("fd00::3"))
    #expect(options.advertisedDNSAddress == address("fd00::3"))
    let advertised = try #require(options.routerAdvertisement(mtu: 1500))
    #expect(advertised.prefixes.map(\.prefix) == [address("fd00::")])
    #expect(advertised.prefixes.allSatisfy { $0.onLink && $0.autonomous && $0.prefixLength == 64 })
    #expect(advertised.dnsServers == [address("fd00::3")])
    #expect(advertised.mtu == 1500)
  }

  @Test func aNamedDNSServerIsAdvertised() throws {
    let options = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--ra-dns", "fd00::3"])
    #expect(options.advertisedDNSAddress == address("fd00::3"))
    #expect(options.routerAdvertisement(mtu: 1500)?.dnsServers == [address("fd00::3")])
  }

  @Test func noDNSAddressMeansNoAdvertisedDNS() throws {
    let options = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--dns-address", "none"])
    #expect(options.dnsAddress6 == nil)
    #expect(options.advertisedDNSAddress == nil)
    #expect(options.routerAdvertisement(mtu: 1500)?.dnsServers == [])
    let noIPv6 = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--dns-address6", "none"])
    #expect(noIPv6.dnsAddress6 == nil && noIPv6.dnsAddress != nil)
    #expect(noIPv6.routerAdvertisement(mtu: 1500)?.dnsServers == [])
    // --ra-dns none keeps DNS over IPv6 but advertises none.
    let unadvertised = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--ra-dns", "none"])
    #expect(unadvertised.dnsAddress6 == address("fd00::3"))
    #expect(unadvertised.routerAdvertisement(mtu: 1500)?.dnsServers == [])
  }

  @Test func theIPv6DNSAddressIsSettable() throws {
    let given = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--dns-address6", "fd00::53",
    ])
    #expect(given.dnsAddress6 == address("fd00::53"))
    #expect(given.routerAdvertisement(mtu: 1500)?.dnsServers == [address("fd00::53")])
    // With --ra-prefix the plan's DNS is that prefix's ::3.
    let prefixed = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--ra-prefix", "fd42:1:2:3::/64",
    ])
    #expect(prefixed.dnsAddress6 == address("fd42:1:2:3::3"))
    // Without advertising, the ::3 of the first --ip6 prefix.
    let off = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--router-adv", "off", "--ip6", "fd77::2/64",
    ])
    #expect(off.dnsAddress6 == address("fd77::3"))
    let bare = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--router-adv", "off"])
    #expect(bare.dnsAddress6 == nil)
    let small = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--mtu", "576"])
    #expect(small.dnsAddress6 == nil)
  }

  @Test func aWrongIPv6DNSAddressIsRefused() {
    #expect(
      refusal(["--tap", "t", "--dns-address6", "fd00::3"])
        == "--dns-address6: only applies with --relay")
    #expect(
      refusal(["--tap", "t", "--relay", "--dns-address6", "fd00::2"])
        == "--dns-address6: 'fd00::2' is not another address inside the stack's prefixes (fd00::/64)"
    )
    #expect(
      refusal(["--tap", "t", "--relay", "--dns-address6", "fd99::3"])
        == "--dns-address6: 'fd99::3' is not another address inside the stack's prefixes (fd00::/64)"
    )
    #expect(
      refusal(["--tap", "t", "--relay", "--ip6", "fd00::3/64"])
        == "--dns-address6: the planned fd00::3 is the stack's own address; give one")
    #expect(
      refusal(["--tap", "t", "--relay", "--mtu", "576", "--dns-address6", "fd00::3"])
        == "--dns-address6: needs IPv6, which a --mtu below 1280 turns off")
  }

  @Test func everyPartIsSettable() throws {
    let options = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--ra-prefix", "fd42:1:2:3::/64", "--ra-dns", "fd42:1:2:3::53",
    ])
    #expect(options.ipv6Addresses == [cidr("fd42:1:2:3::2/64")])
    #expect(options.advertisedPrefix == cidr("fd42:1:2:3::/64"))
    #expect(options.advertisedDNSAddress == address("fd42:1:2:3::53"))

    // An --ip6 /64 names the prefix, and is the stack's address in it.
    let fromIP6 = try DaemonOptions(arguments: [
      "--tap", "t", "--relay", "--ip6", "2001:db8:5::1/64", "--ra-dns", "none",
    ])
    #expect(fromIP6.ipv6Addresses == [cidr("2001:db8:5::1/64")])
    #expect(fromIP6.advertisedPrefix == cidr("2001:db8:5::/64"))
    #expect(fromIP6.advertisedDNSAddress == nil)

    let off = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--router-adv", "off"])
    #expect(off.ipv6Addresses.isEmpty && off.routerAdvertisement(mtu: 1500) == nil)
    // Below IPv6's minimum MTU there is no IPv6 to advertise.
    let small = try DaemonOptions(arguments: ["--tap", "t", "--relay", "--mtu", "576"])
    #expect(small.routerAdvertisement(mtu: 576) == nil)
    #expect(DaemonOptions.help.contains("--ra-prefix PREFIX/64"))
  }

  @Test func refusals() {
    #expect(
      refusal(["--tap", "t", "--router-adv", "on"]) == "--router-adv: only applies with --relay")
    #expect(
      refusal(["--tap", "t", "--ra-prefix", "fd00::/64"])
        == "--ra-prefix: only applies with --relay")
    #expect(
      refusal(["--tap", "t", "--ra-dns", "fd00::3"]) == "--ra-dns: only applies with --relay")
    #expect(
      refusal(["--tap", "t", "--relay", "--router-adv", "maybe"])
        == "--router-adv: 'maybe' is neither 'on' nor 'off'")
    #expect(
      refusal(["--tap", "t", "--relay", "--ra-prefix", "fd00::/48"])?.hasPrefix(
        "--ra-prefix: 'fd00::/48' is not a /64") == true)
    #expect(
      refusal(["--tap", "t", "--relay", "--ra-prefix", "fe80::/64"])
        == "--ra-prefix: 'fe80::/64' is not a unicast prefix for guests' addresses")
    #expect(refusal(["--tap", "t", "--relay", "--ra-prefix", "nonsense"]) != nil)
    #expect(
      refusal(["--tap", "t", "--relay", "--ra-dns", "ff02::1"])
        == "--ra-dns: 'ff02::1' is not a unicast address")
    #expect(
      refusal(["--tap", "t", "--relay", "--router-adv", "off", "--ra-dns", "fd00::3"])
        == "--ra-dns: has no meaning with --router-adv off")
    #expect(
      refusal(["--tap", "t", "--relay", "--router-adv", "on", "--mtu", "1000"])
        == "--router-adv: needs IPv6, which a --mtu below 1280 turns off")
    #expect(
      refusal(["--tap", "t", "--relay", "--ip6", "auto"])?.hasPrefix("--ip6: 'auto'") == true)
    #expect(refusal(["--tap", "t", "--relay", "--ip6", "auto", "--router-adv", "off"]) == nil)
  }
}
