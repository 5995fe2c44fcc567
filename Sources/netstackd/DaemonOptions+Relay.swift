import NetCore
import NetStack

/// Relay mode's options (`--relay` and what it brings: the address plan of slirp, DNS, the
/// destinations a guest may reach), and the plan they fill in before the rest is checked.
extension DaemonOptions {
  /// slirp's plan: the stack is the gateway 10.0.2.2/24.
  static let relayDefaultAddress = IPv4CIDR(address: IPv4Address(10, 0, 2, 2), prefixLength: 24)
  /// The DNS address is the subnet's third host (10.0.2.3), the leases start at its 15th.
  static let relayDNSHost: UInt32 = 3
  static let relayFirstLeaseHost: UInt32 = 15

  static let relayOptions: [Option] = [
    Option(
      "--relay",
      help: """
        be the network of the guests on the link: ping, UDP and TCP to other hosts go out \
        through the host's sockets, DNS at --dns-address is forwarded to the host's name servers. \
        Without --ip the stack is 10.0.2.2/24, DNS 10.0.2.3, and the DHCP server leases from \
        10.0.2.15 with that router and DNS; the TAP's host side is left alone
        """
    ) { options, _, _ in options.relay = true },
    Option(
      "--dns-address", value: .required("ADDR|none"),
      help: """
        with --relay: the address whose port 53 forwards queries to the host's name servers \
        (default: the third host of the --ip network, 10.0.2.3; 'none' for no DNS)
        """
    ) { options, value, name throws(OptionError) in
      if value == "none" {
        options.relayDNS = .none
        return
      }
      do { options.relayDNS = .address(try IPv4Address(parsing: value ?? "")) } catch {
        throw OptionError(name, "\(error)")
      }
    },
    Option(
      "--resolv-conf", value: .required("PATH"),
      help: """
        with --relay: the resolv.conf whose name servers DNS queries go to, read again when it \
        changes (default /etc/resolv.conf)
        """
    ) { options, value, name throws(OptionError) in
      guard let value, !value.isEmpty else { throw OptionError(name, "needs a file path") }
      options.resolvConf = value
    },
    Option(
      "--deny", value: .required("CIDR"),
      help: """
        with --relay: refuse destinations in CIDR, IPv4 or IPv6, answering ICMP (ICMPv6) \
        'administratively prohibited' (repeatable, up to 64)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard
        options.denied.count + options.deniedIPv6.count
          < RelayDestinationPolicy.maximumDeniedRanges
      else {
        throw OptionError(name, "more than \(RelayDestinationPolicy.maximumDeniedRanges) ranges")
      }
      if text.contains(":") {
        options.deniedIPv6.append(try parseIPv6Range(text, option: name))
        return
      }
      let range: IPv4CIDR
      if !text.contains("/"), let plain = try? IPv4Address(parsing: text) {
        range = IPv4CIDR(address: plain, prefixLength: 32)
      } else {
        do { range = try IPv4CIDR(parsing: text) } catch { throw OptionError(name, "\(error)") }
      }
      options.denied.append(range)
    },
    Option(
      "--relay-flows", value: .required("N"),
      help: """
        with --relay: the most ping flows, the most UDP flows and the most TCP connections \
        at once, each with a host socket, 1-16384 (default 1024); at the limit the least \
        recently used ping or UDP flow is closed, a new TCP connection refused
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard let count = Int(text), (1...16384).contains(count) else {
        throw OptionError(name, "'\(text)' is not a number from 1 to 16384")
      }
      options.relayFlows = count
    },
    Option(
      "--relay-idle-timeout", value: .required("SECONDS"),
      help: """
        with --relay: close a ping or UDP flow after this long without a datagram either way \
        (default 60)
        """
    ) { options, value, name throws(OptionError) in
      options.relayIdleTimeout = try parseSeconds(value ?? "", option: name)
    },
    Option(
      "--host-loopback", value: .required("ADDR"),
      help: """
        with --relay: the address at which guests reach the host's loopback, an IPv4 one for \
        127.0.0.1 and an IPv6 one for ::1 (give it twice for both; default: none, the host's \
        loopback is unreachable)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      if text.contains(":") {
        guard options.hostLoopbackIPv6 == nil else {
          throw OptionError(name, "an IPv6 address is given twice")
        }
        do { options.hostLoopbackIPv6 = try IPv6Address(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
        return
      }
      guard options.hostLoopback == nil else {
        throw OptionError(name, "an IPv4 address is given twice")
      }
      do { options.hostLoopback = try IPv4Address(parsing: text) } catch {
        throw OptionError(name, "\(error)")
      }
    },
  ]

  /// `--dns-address`: as planned, none, or an address.
  enum RelayDNSChoice: Equatable {
    case planned
    case none
    case address(IPv4Address)
  }

  /// The DNS address relay mode serves, once the plan is made (nil: none, or not relaying).
  var dnsAddress: IPv4Address? {
    guard relay, case .address(let address) = relayDNS else { return nil }
    return address
  }

  /// Fills in relay mode's address plan for what was not given, and checks the relay options:
  /// they need `--relay`, and `--relay` a device and a fixed address.
  mutating func planRelay() throws(OptionError) {
    guard relay else {
      for (given, option) in [
        (relayDNS != .planned, "--dns-address"), (resolvConf != nil, "--resolv-conf"),
        (!denied.isEmpty || !deniedIPv6.isEmpty, "--deny"),
        (hostLoopback != nil || hostLoopbackIPv6 != nil, "--host-loopback"),
        // UDP forwards and published ports take these two too (their flows).
        (relayFlows != nil && !hasUDPFlows, "--relay-flows"),
        (relayIdleTimeout != nil && !hasUDPFlows, "--relay-idle-timeout"),
        (relayHalfClosedTimeout != nil && !hasTCPFlows, "--relay-half-closed-timeout"),
      ] where given {
        throw OptionError(option, "only applies with --relay")
      }
      return
    }
    if backend == .socket {
      throw OptionError("--relay", "has no meaning with --backend socket (there is no device)")
    }
    if dhcp {
      throw OptionError("--relay", "needs a fixed address: it cannot be combined with --dhcp")
    }
    let cidr = address ?? Self.relayDefaultAddress
    address = cidr
    guard cidr.prefixLength <= 28 else {
      throw OptionError(
        "--relay", "the --ip network \(cidr.network) is too small for a guest network")
    }
    let base = cidr.networkAddress.rawValue
    if relayDNS == .planned {
      let planned = IPv4Address(rawValue: base + Self.relayDNSHost)
      guard planned != cidr.address else {
        throw OptionError(
          "--dns-address", "the planned \(planned) is the stack's own address; give one")
      }
      relayDNS = .address(planned)
    }
    if case .address(let dns) = relayDNS {
      guard cidr.contains(dns), dns.isUnicast, dns != cidr.address, dns != cidr.networkAddress,
        dns != cidr.broadcastAddress
      else {
        throw OptionError("--dns-address", "'\(dns)' is not another host inside \(cidr.network)")
      }
    }
    if let loopback = hostLoopback {
      guard loopback.isUnicast, !loopback.isLoopback, loopback != cidr.address,
        loopback != dnsAddress, loopback != cidr.networkAddress, loopback != cidr.broadcastAddress
      else {
        throw OptionError(
          "--host-loopback", "'\(loopback)' is not an address of its own for the host's loopback")
      }
    }
    if dhcpServerPool == nil {
      let first = IPv4Address(rawValue: base + Self.relayFirstLeaseHost)
      let last = IPv4Address(rawValue: cidr.broadcastAddress.rawValue - 1)
      let taken = [cidr.address, dnsAddress, hostLoopback].compactMap { $0 }
      guard !taken.contains(where: { (first...last).contains($0) }) else {
        throw OptionError(
          "--dhcp-server",
          "the planned pool \(first)-\(last) holds one of the stack's addresses; give one")
      }
      dhcpServerPool = first...last
    }
    if dhcpDNS.isEmpty, let dns = dnsAddress { dhcpDNS = [dns] }
    // Only a TAP has a host side to leave alone; the other devices take no --host-ip at all.
    if case .tap = device, hostAddress == nil { hostAddress = HostAddress.none }
  }

  /// `--host-loopback`'s IPv6 address: a unicast one of global scope that is not the
  /// stack's nor the relay's IPv6 DNS address, with IPv6 on. Runs after ``planRouterAdvertisement()`` (the stack's planned
  /// address).
  func checkHostLoopbackIPv6() throws(OptionError) {
    guard relay, let loopback = hostLoopbackIPv6 else { return }
    guard ipv6Addresses.contains(where: { !$0.address.isLinkLocal }) else {
      throw OptionError("--host-loopback", "'\(loopback)' needs IPv6 (an --ip6 or the router plan)")
    }
    guard loopback.isUnicast, !loopback.isLinkLocal, !loopback.isIPv4Mapped,
      !ipv6Addresses.contains(where: { $0.address == loopback }), loopback != dnsAddress6
    else {
      throw OptionError(
        "--host-loopback", "'\(loopback)' is not an address of its own for the host's loopback")
    }
  }

  /// The relay's destination policy from the options.
  var relayPolicy: RelayDestinationPolicy {
    var policy = RelayDestinationPolicy(guestSubnet: stackAddress.network)
    for range in denied { _ = policy.deny(range) }
    for range in deniedIPv6 { _ = policy.deny(range) }
    policy.guestPrefixes = ipv6Addresses.filter { $0.prefixLength < 128 }.map(\.network)
    policy.hostLoopback = hostLoopback
    policy.hostLoopbackIPv6 = hostLoopbackIPv6
    return policy
  }

  /// An IPv6 `--deny` range: ADDR/PREFIX, or one address (/128).
  static func parseIPv6Range(_ text: String, option: String) throws(OptionError) -> IPv6CIDR {
    if !text.contains("/") {
      do { return IPv6CIDR(address: try IPv6Address(parsing: text), prefixLength: 128) } catch {
        throw OptionError(option, "\(error)")
      }
    }
    do { return try IPv6CIDR(parsing: text) } catch { throw OptionError(option, "\(error)") }
  }
}
