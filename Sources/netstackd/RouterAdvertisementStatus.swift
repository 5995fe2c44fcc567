import IPv6
import NetCore

/// What `netstackd status` shows of the stack as the guests' IPv6 router (RFC 4861 §6.2):
/// the prefixes, DNS servers and MTU it advertises, the advertisements sent and the router
/// solicitations answered and rate-limited (§6.2.6), and when the next advertisement is due,
/// or why none is: waiting for the link-local address, or stopped because it failed duplicate
/// address detection.
struct RouterAdvertisementStatus {
  var prefixes: [String]
  var dnsServers: [String]
  var mtu: Int64?
  var routerLifetime: Int64
  var counters: RouterAdvertiserCounters
  /// Seconds until the next advertisement (nil: none scheduled, or none can be sent).
  var nextInSeconds: Int64?
  /// Why no advertisement can go out now: "waiting for the link-local address" (duplicate
  /// address detection), "stopped: the link-local address is a duplicate"; nil when they can.
  var waiting: String?

  init(_ advertiser: RouterAdvertiser, hasLinkLocal: Bool, halted: Bool, now: Instant) {
    let configuration = advertiser.configuration
    prefixes = configuration.prefixes.map {
      "\(IPv6CIDR(address: $0.prefix, prefixLength: $0.prefixLength))"
    }
    dnsServers = configuration.dnsServers.map { "\($0)" }
    mtu = configuration.mtu.map { Int64($0) }
    routerLifetime = Int64(configuration.routerLifetime)
    counters = advertiser.counters
    if halted {
      waiting = "stopped: the link-local address is a duplicate"
    } else if !hasLinkLocal && !advertiser.hasCeased {
      waiting = "waiting for the link-local address"
    } else {
      nextInSeconds = advertiser.nextDeadline.map { max(0, ($0 - now).seconds) }
    }
  }

  /// The text lines of the report.
  var lines: [String] {
    let dns = dnsServers.isEmpty ? "none" : dnsServers.joined(separator: ", ")
    return [
      "ipv6 router advertisements: prefix \(prefixes.joined(separator: ", ")), dns \(dns), "
        + "mtu \(mtu.map { "\($0)" } ?? "-"), router lifetime \(routerLifetime) s",
      "  sent \(counters.advertisementsSent) (\(counters.solicitedAdvertisementsSent) solicited), "
        + (waiting ?? "next in \(nextInSeconds.map { "\($0) s" } ?? "-")") + "; solicitations "
        + "\(counters.solicitationsReceived): \(counters.solicitationsAnswered) answered, "
        + "\(counters.solicitationsRateLimited) rate-limited; other routers' advertisements "
        + "\(counters.otherRouterAdvertisements) "
        + "(\(counters.inconsistentAdvertisements) inconsistent)",
    ]
  }

  /// Writes the report as one JSON object.
  func write(to json: JSONWriter) {
    json.object {
      json.key("prefixes")
      json.array(prefixes) { json.value($0) }
      json.key("dns_servers")
      json.array(dnsServers) { json.value($0) }
      if let mtu { json.field("mtu", mtu) }
      json.field("router_lifetime", routerLifetime)
      if let next = nextInSeconds { json.field("next_in", next) }
      if let waiting { json.field("waiting", waiting) }
      counters.forEachCounter { name, value in json.field("\(name)", Int64(value)) }
    }
  }
}
