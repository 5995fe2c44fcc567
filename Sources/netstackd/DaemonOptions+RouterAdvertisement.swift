import IPv6
import NetCore

/// Relay mode's IPv6 side (`--router-adv`, `--ra-prefix`, `--ra-dns`): the stack is the
/// guests' IPv6 router, as slirp4netns is, and advertises a prefix for their addresses
/// (SLAAC) and a DNS server (RFC 4861 §6.2, RFC 8106); the plan it fills in.
extension DaemonOptions {
  /// slirp4netns's plan: the guests' prefix fd00::/64; the stack is its ::2 (and the relay's
  /// DNS its ::3, `--dns-address6`).
  static let routerAdvertisementDefaultPrefix = IPv6CIDR(
    address: IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0), prefixLength: 64)
  static let routerAdvertisementStackHost: UInt64 = 2

  static let routerAdvertisementOptions: [Option] = [
    Option(
      "--router-adv", value: .required("on|off"),
      help: """
        with --relay: be the guests' IPv6 router: send router advertisements (RFC 4861) with \
        the --ra-prefix for their addresses (SLAAC), the MTU and the --ra-dns server, and \
        answer router solicitations, at most one advertisement per 3 s (default on; off: \
        IPv6 as a host)
        """
    ) { options, value, name throws(OptionError) in
      switch value {
      case "on": options.routerAdvertising = true
      case "off": options.routerAdvertising = false
      default: throw OptionError(name, "'\(value ?? "")' is neither 'on' nor 'off'")
      }
    },
    Option(
      "--ra-prefix", value: .required("PREFIX/64"),
      help: """
        with --relay: the IPv6 prefix advertised to the guests, on-link and for their \
        addresses; the stack takes its ::2 unless an --ip6 is inside it (default: the prefix \
        of the first --ip6 /64, else fd00::/64 with the stack at fd00::2)
        """
    ) { options, value, name throws(OptionError) in
      let prefix: IPv6CIDR
      do { prefix = try IPv6CIDR(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
      guard prefix.prefixLength == 64 else {
        throw OptionError(
          name,
          "'\(prefix)' is not a /64 (SLAAC's interface identifiers are 64 bits, RFC 4862 §5.5.3)")
      }
      let network = prefix.prefix
      guard network.isUnicast, !network.isLinkLocal, !network.isIPv4Mapped,
        !network.isUnspecified
      else {
        throw OptionError(name, "'\(prefix)' is not a unicast prefix for guests' addresses")
      }
      options.advertisedPrefix = IPv6CIDR(address: network, prefixLength: 64)
    },
    Option(
      "--ra-dns", value: .required("ADDR|none"),
      help: """
        with --relay: the IPv6 DNS server the router advertisements name (RFC 8106 RDNSS) \
        (default: the --dns-address6, the prefix's ::3; none if there is none)
        """
    ) { options, value, name throws(OptionError) in
      if value == "none" {
        options.advertisedDNS = .none
        return
      }
      let address: IPv6Address
      do { address = try IPv6Address(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
      guard address.isUnicast, !address.isIPv4Mapped else {
        throw OptionError(name, "'\(address)' is not a unicast address")
      }
      options.advertisedDNS = .address(address)
    },
  ]

  /// `--ra-dns`: as planned, none, or an address.
  enum AdvertisedDNSChoice: Equatable {
    case planned
    case none
    case address(IPv6Address)
  }

  /// Fills in the IPv6 side of relay mode's plan: unless `--router-adv off`, the prefix to
  /// advertise, the stack's address inside it, and the DNS server to name; checks that the
  /// options need `--relay` and that no `--ip6 auto` asks a router to autoconfigure (RFC 4862
  /// §4: routers do not). Runs after ``planRelay()``.
  mutating func planRouterAdvertisement() throws(OptionError) {
    let given = [
      (routerAdvertising != nil, "--router-adv"), (advertisedPrefix != nil, "--ra-prefix"),
      (advertisedDNS != .planned, "--ra-dns"),
    ]
    guard relay else {
      for (isGiven, option) in given where isGiven {
        throw OptionError(option, "only applies with --relay")
      }
      return
    }
    guard routerAdvertising != false else {
      for (isGiven, option) in given.dropFirst() where isGiven {
        throw OptionError(option, "has no meaning with --router-adv off")
      }
      return
    }
    if let mtu, mtu < IPv6Header.minimumMTU {
      // No IPv6 at all below 1280 (RFC 8200 §5): nothing to advertise.
      if routerAdvertising == true {
        throw OptionError("--router-adv", "needs IPv6, which a --mtu below 1280 turns off")
      }
      return
    }
    if ipv6Autoconfiguration {
      throw OptionError(
        "--ip6",
        "'auto' is a host's: with --relay the stack is the guests' router "
          + "(or give --router-adv off)")
    }
    let prefix =
      advertisedPrefix
      ?? ipv6Addresses.first(where: { $0.prefixLength == 64 && !$0.address.isLinkLocal }).map {
        IPv6CIDR(address: $0.prefix, prefixLength: 64)
      } ?? Self.routerAdvertisementDefaultPrefix
    if !ipv6Addresses.contains(where: { prefix.contains($0.address) }) {
      ipv6Addresses.append(
        IPv6CIDR(
          address: IPv6Address(
            prefix: prefix.prefix, interfaceIdentifier: Self.routerAdvertisementStackHost),
          prefixLength: 64))
    }
    routerAdvertising = true
    advertisedPrefix = prefix
    // The DNS server, unless --ra-dns names one, is the relay's IPv6 DNS address:
    // planRelayDNS6.
  }

  /// The DNS server the advertisements name, once planned.
  var advertisedDNSAddress: IPv6Address? {
    guard case .address(let address) = advertisedDNS else { return nil }
    return address
  }

  /// What the stack advertises as the guests' router, for a link of `mtu` (nil: not a router).
  func routerAdvertisement(mtu: Int) -> RouterAdvertiser.Configuration? {
    guard routerAdvertising == true, let prefix = advertisedPrefix else { return nil }
    return RouterAdvertiser.Configuration(
      prefix: prefix, dnsServers: advertisedDNSAddress.map { [$0] } ?? [], mtu: mtu)
  }
}
