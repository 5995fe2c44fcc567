import Glibc
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI

/// Relay mode in the daemon: the stack becomes the guests' gateway, with the host side of its
/// ping (``HostEchoRelay``), UDP (``HostUDPRelay``) and DNS (``RelayDNSService`` over ``HostDNSUpstream``).
extension Daemon {
  /// Starts the relay on `runtime` as the options ask, and prints what it does.
  func startRelay(on runtime: DirectStackRuntime) {
    raiseDescriptorLimit()
    runtime.stack.startRelay(
      RelayGateway(
        policy: options.relayPolicy, dnsAddress: options.dnsAddress,
        dnsAddress6: options.dnsAddress6),
      now: MonotonicClock.now())
    // The IPv6 layer may refuse the address (its table full): then DNS answers over IPv4 only.
    let dnsAddress6 = runtime.stack.relay?.dnsAddress6
    if options.dnsAddress6 != nil && dnsAddress6 == nil {
      logger.warning("relay: dns: the IPv6 layer refused \(options.dnsAddress6!): no DNS over IPv6")
    }
    if let loopback = options.hostLoopbackIPv6,
      !runtime.stack.answerForHostLoopbackIPv6(now: MonotonicClock.now())
    {
      logger.warning(
        "relay: the IPv6 layer does not answer for --host-loopback \(loopback): guests may not reach the host's ::1 there"
      )
    }
    let echo: HostEchoRelay
    do {
      echo = try HostEchoRelay(
        runtime: runtime,
        table: ICMPEchoFlowTable(maximumFlows: flowLimit, idleTimeout: flowIdleTimeout),
        logger: logger)
    } catch {
      undo()
      Netstackd.fail("relay: \(error)", status: 1)
    }
    let udp: HostUDPRelay
    do {
      udp = try HostUDPRelay(
        runtime: runtime,
        table: UDPFlowTable(maximumFlows: flowLimit, idleTimeout: flowIdleTimeout), logger: logger)
    } catch {
      undo()
      Netstackd.fail("relay: \(error)", status: 1)
    }
    let tcp: HostTCPRelay
    do {
      tcp = try HostTCPRelay(runtime: runtime, maximumFlows: flowLimit, logger: logger)
      tcp.lifetime = options.hostSocketLifetime
      tcp.halfClosedTimeout = options.halfClosedTimeout
    } catch {
      undo()
      Netstackd.fail("relay: \(error)", status: 1)
    }
    var dns: RelayDNSService? = nil
    let resolvConf = options.resolvConf ?? "/etc/resolv.conf"
    if options.dnsAddress != nil || dnsAddress6 != nil {
      let upstream: HostDNSUpstream
      do {
        upstream = try HostDNSUpstream(
          loop: runtime.loop, resolvConfPath: resolvConf, logger: logger)
      } catch {
        undo()
        Netstackd.fail("relay: dns: \(error)", status: 1)
      }
      do {
        dns = try RelayDNSService(
          runtime: runtime, address: options.dnsAddress, address6: dnsAddress6,
          upstream: upstream)
        dns?.startTCP(logger: logger)
      } catch {
        undo()
        Netstackd.fail("relay: dns: cannot bind port 53: \(error)", status: 1)
      }
    }
    relayEcho = echo
    relayUDP = udp
    relayTCP = tcp
    relayDNS = dns
    runtime.afterPoll = { now in
      dns?.drain()
      echo.drain(now: now)
      udp.drain(now: now)
      tcp.drain(now: now)
    }
    var summary = "netstackd: relay: gateway \(options.stackAddress.address)"
    if let dns {
      let addresses = dns.addresses.map { "\($0)" }.joined(separator: " and ")
      summary += ", dns \(addresses) (name servers from \(resolvConf))"
    } else {
      summary += ", no dns"
    }
    if let pool = options.dhcpServerPool {
      summary += ", leases \(pool.lowerBound)-\(pool.upperBound)"
    }
    summary += "; ping to other hosts "
    summary += echo.unavailableReason.map { "refused: \($0)" } ?? "through ICMP sockets"
    summary += "; udp through host sockets"
    let denied = options.denied.map { "\($0)" } + options.deniedIPv6.map { "\($0)" }
    if !denied.isEmpty {
      summary += "; denied \(denied.joined(separator: ", "))"
    }
    let loopbacks = [
      options.hostLoopback.map { "\($0)" }, options.hostLoopbackIPv6.map { "\($0)" },
    ]
    .compactMap { $0 }
    summary +=
      "; host loopback "
      + (loopbacks.isEmpty ? "unreachable" : "at " + loopbacks.joined(separator: ", "))
    print(summary)
  }

  /// `--relay-flows`: the most flows of each kind (ping, UDP, TCP).
  var flowLimit: Int { options.relayFlows ?? 1024 }
  /// `--relay-idle-timeout`: how long a flow lives without traffic.
  var flowIdleTimeout: Interval { .seconds(Int64(options.relayIdleTimeout ?? 60)) }

  /// Raises the soft limit of open descriptors towards the hard one, to 65,536 at most (each
  /// relayed flow, published connection or forwarded UDP flow holds a socket, each DNS query
  /// upstream one: up to about 3,100 with the default bounds, past the usual soft limit of
  /// 1,024); a socket beyond the limit is counted as a socket failure.
  func raiseDescriptorLimit() {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < min(limit.rlim_max, 65536) else {
      return
    }
    let before = limit.rlim_cur
    limit.rlim_cur = min(limit.rlim_max, 65536)
    if setrlimit(resource, &limit) == 0 {
      logger.info("open descriptors allowed raised from \(before) to \(limit.rlim_cur)")
    } else {
      logger.warning(
        "cannot raise the open descriptors allowed from \(before): \(String(cString: strerror(errno)))"
      )
    }
  }

  /// The relay's status for `netstackd status`.
  func relayStatus(_ stack: DirectStack, now: Instant) -> StatusReport.RelayStatus? {
    guard let gateway = stack.relay else { return nil }
    var status = StatusReport.RelayStatus(
      dnsAddress: gateway.dnsAddress.map { "\($0)" },
      dnsAddress6: gateway.dnsAddress6.map { "\($0)" },
      resolvConf: relayDNS?.upstream.resolvConfPath,
      nameServers: relayDNS?.upstream.forwarder.servers.map { "\($0.address)" } ?? [],
      denied: gateway.policy.denied.map { "\($0)" } + gateway.policy.deniedIPv6.map { "\($0)" },
      hostLoopback: gateway.policy.hostLoopback.map { "\($0)" },
      echo: relayEcho?.unavailableReason.map { "unavailable: \($0)" } ?? "ICMP sockets")
    status.hostLoopbackIPv6 = gateway.policy.hostLoopbackIPv6.map { "\($0)" }
    status.dnsAddress6Duplicate = stack.relayDNS6IsDuplicate
    if let echo = relayEcho {
      status.echoFlowLimit = echo.table.maximumFlows
      status.echoIdleTimeoutSeconds = echo.table.idleTimeout.seconds
      status.echoFlows = echo.table.all.map { flow in
        StatusReport.RelayStatus.EchoFlow(
          guest: "\(flow.key.guest)", identifier: flow.key.identifier,
          destination: "\(flow.key.destination)", hostDestination: "\(flow.hostDestination)",
          requests: flow.requests, replies: flow.replies, ageSeconds: (now - flow.created).seconds,
          idleSeconds: (now - flow.lastUsed).seconds)
      }
    }
    if let udp = relayUDP {
      status.udpFlowLimit = udp.table.maximumFlows
      status.udpIdleTimeoutSeconds = udp.table.idleTimeout.seconds
      status.udpFlows = udp.table.all.map { flow in
        StatusReport.RelayStatus.UDPFlow(
          guest: "\(SocketAddress(flow.key.guest, flow.key.guestPort))",
          destination: "\(SocketAddress(flow.key.destination, flow.key.destinationPort))",
          hostDestination: "\(SocketAddress(flow.hostDestination, flow.key.destinationPort))",
          datagramsOut: flow.requests, datagramsIn: flow.replies,
          ageSeconds: (now - flow.created).seconds, idleSeconds: (now - flow.lastUsed).seconds)
      }
    }
    if let tcp = relayTCP { status.addTCPFlows(of: tcp, now: now) }
    return status
  }

  /// The relay's host-side counters: the DNS forwarder's and the ping sockets'.
  func relayCounters() -> [(group: String, name: String, value: UInt64)] {
    var counters: [(group: String, name: String, value: UInt64)] = []
    if let dns = relayDNS {
      dns.upstream.counters.forEachCounter { name, value in
        counters.append(("dns", "\(name)", value))
      }
      counters.append(("dns", "answers_not_sent", dns.answersNotSent))
      counters.append(("dns", "upstream_sockets_open", UInt64(dns.upstream.openSockets)))
      counters.append(("dns", "tcp_connections_open", UInt64(dns.tcp?.openConnections ?? 0)))
      counters.append(
        ("dns", "tcp_connections_refused_other_address", dns.tcp?.connectionsRefused ?? 0))
      counters.append(
        ("dns", "tcp_connections_reset_slow_reader", dns.tcp?.connectionsResetSlowReader ?? 0))
    }
    if let echo = relayEcho {
      for (name, value) in echo.counters.all { counters.append(("relay_icmp", name, value)) }
      counters.append(("relay_icmp", "flows", UInt64(echo.table.count)))
      counters.append(("relay_icmp", "flows_evicted", echo.table.evictions))
      counters.append(("relay_icmp", "flows_expired", echo.table.expirations))
    }
    if let udp = relayUDP {
      for (name, value) in udp.counters.all { counters.append(("relay_udp", name, value)) }
      counters.append(("relay_udp", "flows", UInt64(udp.table.count)))
      counters.append(("relay_udp", "flows_evicted", udp.table.evictions))
      counters.append(("relay_udp", "flows_expired", udp.table.expirations))
    }
    if let tcp = relayTCP { counters += tcpRelayCounters(tcp) }
    return counters
  }
}
