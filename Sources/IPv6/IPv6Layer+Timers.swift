import NetCore

extension IPv6Layer {
  /// Runs the timers: reassembly timeouts (with time exceeded), neighbour solicitations and
  /// probes, duplicate address detection and address lifetimes, MLD reports, router
  /// solicitations or (a router's) advertisements, and the lifetimes of routers, prefixes,
  /// DNS servers, redirects and path MTU estimates.
  public mutating func poll(now: Instant) {
    for expired in reassembler.poll(now: now) {
      counters.reassemblyTimeouts += 1
      // RFC 8200 §4.5: time exceeded code 1 when the first fragment had arrived.
      expired.firstFragment.withUnsafeBufferPointer { bytes in
        sendError(
          ICMPv6Header(
            type: .timeExceeded,
            code: ICMPv6TimeExceededCode.fragmentReassemblyTimeExceeded.rawValue),
          about: Span(_unsafeElements: bytes), linkMulticast: false, allowedForMulticast: false,
          now: now)
      }
    }

    for event in neighbourCache.poll(now: now) {
      switch event {
      case .solicit(let target, let mac):
        sendNeighbourSolicitation(for: target, unicast: mac, now: now)
      case .failed(_, let queued):
        // A host's queued packets are its own: the transports notice by their timeouts.
        ndpCounters.resolutionFailures += 1
        ndpCounters.pendingTimedOut += UInt64(queued.count)
        counters.sendNeighbourDropped += UInt64(queued.count)
      }
    }

    apply(addressTable.poll(now: now), now: now)

    if let due = nextRouterSolicitation, due <= now, routerSolicitationsLeft > 0 {
      if addressTable.addresses.contains(where: {
        $0.origin == .linkLocal && $0.state == .tentative
      }) {
        // RFC 4862 §5.4: never from a tentative address; wait for detection to end.
        routerSolicitationWaitsForLinkLocal = true
        nextRouterSolicitation = nil
      } else {
        sendRouterSolicitation(now: now)
        routerSolicitationsLeft -= 1
        nextRouterSolicitation =
          routerSolicitationsLeft > 0 ? now + configuration.routerSolicitationInterval : nil
      }
    }

    for report in multicast.poll(now: now, random: &random) {
      sendMulticastListenerReport(report, now: now)
    }

    pollAdvertiser(now: now)

    for router in routers.poll(now: now) { redirects.removeAll(through: router) }
    prefixes.poll(now: now)
    dnsServers.poll(now: now)
    redirects.poll(now: now)
    pathMTUs.poll(now: now)
  }

  /// When the layer next needs ``poll(now:)``.
  public var nextDeadline: Instant? {
    var earliest = reassembler.nextDeadline
    earliest = Instant.earliest(earliest, neighbourCache.nextDeadline)
    earliest = Instant.earliest(earliest, addressTable.nextDeadline)
    earliest = Instant.earliest(earliest, multicast.nextDeadline)
    if routerSolicitationsLeft > 0 {
      earliest = Instant.earliest(earliest, nextRouterSolicitation)
    }
    earliest = Instant.earliest(earliest, advertiserDeadline)
    earliest = Instant.earliest(earliest, routers.nextDeadline)
    earliest = Instant.earliest(earliest, prefixes.nextDeadline)
    earliest = Instant.earliest(earliest, dnsServers.nextDeadline)
    earliest = Instant.earliest(earliest, redirects.nextDeadline)
    return Instant.earliest(earliest, pathMTUs.nextDeadline)
  }
}
