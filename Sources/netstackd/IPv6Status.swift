import IPv6
import NetCore
import NetStack

/// What `netstackd status` shows of IPv6: the addresses with their duplicate address detection
/// state (RFC 4862 §5.4), the neighbour cache with its reachability states (RFC 4861 §7.3.2),
/// the default routers, the on-link prefixes and the DNS servers routers advertised
/// (RFC 8106); times in seconds from now.
struct IPv6Status {
  struct Address {
    var cidr: String
    var origin: String
    var state: String
    var validSeconds: Int64?
  }

  /// Whether IPv6 runs (not on a link whose MTU is below 1280).
  var running: Bool
  var mtu: Int
  var hopLimit: Int
  var addresses: [Address] = []
  var neighbours: [(address: String, hardwareAddress: String, state: String, router: Bool)] = []
  var routers: [(address: String, expiresIn: Int64?)] = []
  var prefixes: [(prefix: String, expiresIn: Int64?)] = []
  var dnsServers: [(address: String, expiresIn: Int64?)] = []
  /// The stack as the guests' router (relay mode), if it advertises.
  var routerAdvertisements: RouterAdvertisementStatus?

  init(stack: DirectStack, now: Instant) {
    let ipv6 = stack.ipv6
    running = ipv6.isStarted
    mtu = ipv6.mtu
    hopLimit = Int(ipv6.hopLimit)
    func seconds(_ instant: Instant?) -> Int64? { instant.map { ($0 - now).seconds } }
    addresses = ipv6.addresses.map { entry in
      Address(
        cidr: "\(entry.cidr)", origin: entry.origin.name, state: entry.state.name,
        validSeconds: seconds(entry.validUntil))
    }
    neighbours = ipv6.neighbourCache.entries.map { entry in
      (
        "\(entry.address)", entry.state.linkLayerAddress.map { "\($0)" } ?? "-",
        entry.state.name, entry.isRouter
      )
    }
    routers = ipv6.routers.routers.map { ("\($0.address)", seconds($0.expires)) }
    prefixes = ipv6.prefixes.prefixes.map { ("\($0.prefix)", seconds($0.expires)) }
    dnsServers = ipv6.dnsServers.servers.map { ("\($0.address)", seconds($0.expires)) }
    routerAdvertisements = ipv6.advertiser.map {
      RouterAdvertisementStatus(
        $0, hasLinkLocal: ipv6.addressTable.linkLocalAddress != nil,
        halted: ipv6.advertisingHaltedWithoutLinkLocal, now: now)
    }
  }

  /// "expires in N s" or "permanent".
  private static func lifetime(_ seconds: Int64?) -> String {
    seconds.map { "expires in \($0) s" } ?? "permanent"
  }

  /// The text lines of the report.
  var lines: [String] {
    guard running else { return ["ipv6: off (the link MTU is below 1280)"] }
    var lines = ["ipv6: mtu \(mtu), hop limit \(hopLimit)"]
    lines.append("ipv6 addresses (\(addresses.count)):")
    for entry in addresses {
      lines.append(
        "  \(entry.cidr)  \(entry.origin)  \(entry.state)  \(Self.lifetime(entry.validSeconds))")
    }
    lines.append("ipv6 neighbours (\(neighbours.count)):")
    for entry in neighbours {
      lines.append(
        "  \(entry.address)  \(entry.hardwareAddress)  \(entry.state)\(entry.router ? "  router" : "")"
      )
    }
    lines.append("ipv6 routers (\(routers.count)):")
    for router in routers {
      lines.append("  \(router.address)  \(Self.lifetime(router.expiresIn))")
    }
    lines.append("ipv6 prefixes (\(prefixes.count)):")
    for prefix in prefixes {
      lines.append("  \(prefix.prefix)  \(Self.lifetime(prefix.expiresIn))")
    }
    lines.append("ipv6 dns servers (\(dnsServers.count)):")
    for server in dnsServers {
      lines.append("  \(server.address)  \(Self.lifetime(server.expiresIn))")
    }
    if let routerAdvertisements { lines.append(contentsOf: routerAdvertisements.lines) }
    return lines
  }

  /// Writes the report as one JSON object.
  func write(to json: JSONWriter) {
    json.object {
      json.field("running", running)
      json.field("mtu", Int64(mtu))
      json.field("hop_limit", Int64(hopLimit))
      json.key("addresses")
      json.array(addresses) { entry in
        json.object {
          json.field("address", entry.cidr)
          json.field("origin", entry.origin)
          json.field("state", entry.state)
          if let valid = entry.validSeconds { json.field("valid_seconds", valid) }
        }
      }
      json.key("neighbours")
      json.array(neighbours) { entry in
        json.object {
          json.field("ip", entry.address)
          json.field("mac", entry.hardwareAddress)
          json.field("state", entry.state)
          json.field("router", entry.router)
        }
      }
      json.key("routers")
      json.array(routers) { router in
        json.object {
          json.field("address", router.address)
          if let expires = router.expiresIn { json.field("expires_in", expires) }
        }
      }
      json.key("prefixes")
      json.array(prefixes) { prefix in
        json.object {
          json.field("prefix", prefix.prefix)
          if let expires = prefix.expiresIn { json.field("expires_in", expires) }
        }
      }
      json.key("dns_servers")
      json.array(dnsServers) { server in
        json.object {
          json.field("address", server.address)
          if let expires = server.expiresIn { json.field("expires_in", expires) }
        }
      }
      if let routerAdvertisements {
        json.key("router_advertisements")
        routerAdvertisements.write(to: json)
      }
    }
  }
}
