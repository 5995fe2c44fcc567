import IPv6
import NetCore

/// Relay mode's DNS over IPv6 (`--dns-address6`): the IPv6 address at which the relay's DNS
/// answers, as slirp4netns answers at fd00::3 (RFC 3596 §1: DNS over IPv6 transport), and which
/// the router advertisements name (RFC 8106 §5.1 RDNSS) unless `--ra-dns` says otherwise.
extension DaemonOptions {
  /// The DNS address is the guests' prefix's ::3, as slirp4netns's fd00::3.
  static let relayDNS6Host: UInt64 = 3

  static let relayDNS6Options: [Option] = [
    Option(
      "--dns-address6", value: .required("ADDR|none"),
      help: """
        with --relay: the IPv6 address whose port 53 forwards queries to the host's name \
        servers, named in the router advertisements (default: ::3 of the advertised prefix, \
        fd00::3, or of the first --ip6 prefix; none with --dns-address none; 'none' for no \
        DNS over IPv6)
        """
    ) { options, value, name throws(OptionError) in
      if value == "none" {
        options.relayDNS6 = RelayDNS6Choice.none
        return
      }
      do { options.relayDNS6 = .address(try IPv6Address(parsing: value ?? "")) } catch {
        throw OptionError(name, "\(error)")
      }
    }
  ]

  /// `--dns-address6`: as planned, none, or an address.
  enum RelayDNS6Choice: Equatable {
    case planned
    case none
    case address(IPv6Address)
  }

  /// The IPv6 DNS address relay mode serves, once the plan is made (nil: none, or not
  /// relaying).
  var dnsAddress6: IPv6Address? {
    guard relay, case .address(let address) = relayDNS6 else { return nil }
    return address
  }

  /// Fills in the IPv6 DNS address: unless given, the ::3 of the advertised prefix (or, with
  /// `--router-adv off`, of the first `--ip6` prefix), none where IPv6 does not run or
  /// `--dns-address none` turned DNS off; checks a given one is another address inside one of
  /// the stack's IPv6 prefixes. The router advertisements name it unless `--ra-dns` is given.
  /// Runs after ``planRouterAdvertisement()``.
  mutating func planRelayDNS6() throws(OptionError) {
    guard relay else {
      if relayDNS6 != .planned { throw OptionError("--dns-address6", "only applies with --relay") }
      return
    }
    let ipv6Runs = (mtu ?? 1500) >= IPv6Header.minimumMTU
    let prefixes = ipv6Addresses.filter { $0.prefixLength < 128 && !$0.address.isLinkLocal }
      .map(\.network)
    if relayDNS6 == .planned {
      relayDNS6 = RelayDNS6Choice.none
      let network = routerAdvertising == true ? advertisedPrefix?.network : prefixes.first
      if ipv6Runs, relayDNS != RelayDNSChoice.none, let network, network.prefixLength <= 64 {
        let planned = IPv6Address(prefix: network.prefix, interfaceIdentifier: Self.relayDNS6Host)
        guard !ipv6Addresses.contains(where: { $0.address == planned }) else {
          throw OptionError(
            "--dns-address6", "the planned \(planned) is the stack's own address; give one")
        }
        relayDNS6 = .address(planned)
      }
    }
    if case .address(let dns) = relayDNS6 {
      guard ipv6Runs else {
        throw OptionError("--dns-address6", "needs IPv6, which a --mtu below 1280 turns off")
      }
      guard dns.isUnicast, !dns.isLinkLocal, !dns.isIPv4Mapped,
        prefixes.contains(where: { $0.contains(dns) }),
        !ipv6Addresses.contains(where: { $0.address == dns })
      else {
        let inside =
          prefixes.isEmpty ? "no --ip6 prefix" : prefixes.map { "\($0)" }.joined(separator: ", ")
        throw OptionError(
          "--dns-address6",
          "'\(dns)' is not another address inside the stack's prefixes (\(inside))")
      }
    }
    if routerAdvertising == true, advertisedDNS == .planned {
      if let dns = dnsAddress6 {
        advertisedDNS = .address(dns)
      } else {
        advertisedDNS = AdvertisedDNSChoice.none
      }
    }
  }
}
