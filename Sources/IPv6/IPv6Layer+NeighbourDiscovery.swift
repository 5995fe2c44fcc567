import NetCore

extension IPv6Layer {
  // MARK: Receiving

  /// Counts a message that failed validation (RFC 4861: silently discarded).
  mutating func countInvalid(_ error: NDPValidationError) {
    switch error {
    case .hopLimit: ndpCounters.droppedHopLimit += 1
    case .code, .truncated: ndpCounters.droppedBadLength += 1
    case .zeroLengthOption, .truncatedOption, .badLinkLayerAddressOption:
      ndpCounters.droppedBadOptions += 1
    case .source, .destination, .target, .solicitedFlag: ndpCounters.droppedBadAddresses += 1
    }
  }

  /// A neighbour solicitation (RFC 4861 §7.2.3, §7.2.4; RFC 4862 §5.4.3).
  mutating func receiveNeighbourSolicitation(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    let solicitation: NeighbourSolicitationMessage
    do {
      solicitation = try NeighbourSolicitationMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    ndpCounters.neighbourSolicitationsReceived += 1
    let target = solicitation.target
    if let ours = addressTable.entry(for: target) {
      switch ours.state {
      case .tentative:
        // Only another node's detection makes ours fail; a unicast source is resolving an
        // address it believes assigned and is ignored (RFC 4862 §5.4.3).
        guard context.source.isUnspecified else { return }
        if addressTable.isOwnSolicitation(for: target, nonce: solicitation.options.nonce) {
          ndpCounters.detectionLoopedBack += 1
          return
        }
        duplicateDetected(target, now: now)
        return
      case .duplicate:
        return
      case .preferred, .deprecated:
        break
      }
    } else if !proxiedAddresses.contains(target) {
      ndpCounters.solicitationsNotForUs += 1
      return
    }
    if context.source.isUnspecified {
      // Another node's detection of an address we use: tell all nodes (§7.2.4), not solicited.
      sendNeighbourAdvertisement(
        for: target, to: .allNodes, linkDestination: MACAddress(multicast: .allNodes),
        solicited: false, now: now)
      return
    }
    if let mac = solicitation.options.sourceLinkLayerAddress {
      let released = neighbourCache.learn(
        context.source, linkLayerAddress: mac, isRouter: nil, now: now)
      for packet in released { transmit(packet, toLinkLayer: mac, now: now) }
      ndpCounters.cacheEvictions = neighbourCache.evictions
    }
    sendNeighbourAdvertisement(
      for: target, to: context.source, linkDestination: nil, solicited: true, now: now)
  }

  /// A neighbour advertisement (RFC 4861 §7.2.5; RFC 4862 §5.4.4).
  mutating func receiveNeighbourAdvertisement(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    let advertisement: NeighbourAdvertisementMessage
    do {
      advertisement = try NeighbourAdvertisementMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    ndpCounters.neighbourAdvertisementsReceived += 1
    let target = advertisement.target
    if let ours = addressTable.entry(for: target), ours.state != .duplicate {
      if ours.state == .tentative {
        duplicateDetected(target, now: now)
      } else {
        ndpCounters.addressConflicts += 1
      }
      return
    }
    let outcome = neighbourCache.receiveAdvertisement(
      target, linkLayerAddress: advertisement.options.targetLinkLayerAddress,
      solicited: advertisement.solicited, override: advertisement.override,
      router: advertisement.router, now: now)
    if let mac = outcome.linkLayerAddress {
      for packet in outcome.released { transmit(packet, toLinkLayer: mac, now: now) }
    }
    if outcome.routerFlagCleared {
      // §7.2.5: no longer a router: off the default router list, and no redirect through it.
      if target != gateway { routers.remove(target) }
      redirects.removeAll(through: target)
    }
  }

  /// A router advertisement (RFC 4861 §6.3.4, RFC 4862 §5.5.3, RFC 8106 §5.3).
  mutating func receiveRouterAdvertisement(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    if advertiser != nil {
      receiveRouterAdvertisementAsRouter(message, context: context, now: now)
      return
    }
    guard configuration.acceptsRouterAdvertisements else { return }
    let advertisement: RouterAdvertisementMessage
    do {
      advertisement = try RouterAdvertisementMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    ndpCounters.routerAdvertisementsReceived += 1
    let router = context.source
    let lifetime = Interval.seconds(Int64(advertisement.routerLifetime))
    if !routers.update(router, lifetime: lifetime, now: now) { ndpCounters.routersRefused += 1 }
    if advertisement.routerLifetime > 0 {
      // §6.3.7: a valid advertisement with a non-zero lifetime ends the solicitations.
      routerSolicitationsLeft = 0
      nextRouterSolicitation = nil
      routerSolicitationWaitsForLinkLocal = false
    } else {
      redirects.removeAll(through: router)
    }
    if advertisement.currentHopLimit != 0 { hopLimit = advertisement.currentHopLimit }
    if advertisement.reachableTime != 0 {
      // At most an hour (AdvReachableTime's limit, §6.2.1).
      let base = Interval.milliseconds(Int64(min(advertisement.reachableTime, 3_600_000)))
      if base != baseReachableTime {
        baseReachableTime = base
        neighbourCache.reachableTime = randomReachableTime()
      }
    }
    if advertisement.retransmitTimer != 0 {
      let timer = min(
        Interval.milliseconds(Int64(advertisement.retransmitTimer)),
        configuration.maximumRetransmitTimer)
      neighbourCache.retransmitTimer = timer
      addressTable.retransmitTimer = timer
    }
    let options = advertisement.options
    if let mac = options.sourceLinkLayerAddress {
      let released = neighbourCache.learn(router, linkLayerAddress: mac, isRouter: true, now: now)
      for packet in released { transmit(packet, toLinkLayer: mac, now: now) }
      ndpCounters.cacheEvictions = neighbourCache.evictions
    } else {
      neighbourCache.markRouter(router)
    }
    if let advertisedMTU = options.mtu {
      if advertisedMTU >= UInt32(IPv6Header.minimumMTU) && advertisedMTU <= UInt32(link.mtu) {
        mtu = Int(advertisedMTU)
      } else {
        ndpCounters.mtuOptionsIgnored += 1
      }
    }
    for prefix in options.prefixes {
      if prefix.onLink && !prefix.prefix.isLinkLocal && prefix.prefixLength <= 128 {
        let refusedBefore = prefixes.refused
        prefixes.update(
          IPv6CIDR(address: prefix.prefix, prefixLength: prefix.prefixLength),
          validLifetime: prefix.validLifetime, now: now)
        ndpCounters.prefixesRefused += prefixes.refused - refusedBefore
      }
      if configuration.autoconfiguresAddresses {
        let refusedBefore = addressTable.refusedForCapacity
        apply(addressTable.receivePrefix(prefix, now: now, random: &random), now: now)
        ndpCounters.addressesRefused += addressTable.refusedForCapacity - refusedBefore
      }
    }
    for servers in options.recursiveDNSServers {
      let refusedBefore = dnsServers.refused
      dnsServers.update(servers, now: now)
      ndpCounters.dnsServersRefused += dnsServers.refused - refusedBefore
    }
  }

  /// A redirect (RFC 4861 §8.3), accepted only from the current first hop of its destination.
  mutating func receiveRedirect(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    let redirect: RedirectMessage
    do {
      redirect = try RedirectMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    ndpCounters.redirectsReceived += 1
    guard currentFirstHop(for: redirect.destination) == context.source else {
      ndpCounters.droppedRedirects += 1
      return
    }
    let isRouter = redirect.target != redirect.destination
    redirects.record(redirect.destination, nextHop: redirect.target, now: now)
    if let mac = redirect.options.targetLinkLayerAddress {
      let released = neighbourCache.learn(
        redirect.target, linkLayerAddress: mac, isRouter: isRouter ? true : nil, now: now)
      for packet in released { transmit(packet, toLinkLayer: mac, now: now) }
      ndpCounters.cacheEvictions = neighbourCache.evictions
    } else if isRouter {
      neighbourCache.markRouter(redirect.target)
    }
  }

  /// The first hop packets to `destination` take now, without choosing among routers anew.
  private func currentFirstHop(for destination: IPv6Address) -> IPv6Address? {
    if let redirected = redirects.nextHop(for: destination) { return redirected }
    if destination.isLinkLocal || prefixes.isOnLink(destination) { return destination }
    return routers.routers.first {
      neighbourCache.entry(for: $0.address)?.state.linkLayerAddress != nil
    }?.address ?? routers.routers.first?.address
  }

  // MARK: Sending

  /// Sends a neighbour solicitation for `target` (RFC 4861 §7.2.2): to its solicited-node
  /// group, or (a probe) unicast to `unicast`, from an address of ours, with our link-layer
  /// address.
  mutating func sendNeighbourSolicitation(
    for target: IPv6Address, unicast: MACAddress?, now: Instant
  ) {
    guard let source = sourceAddress(for: target) else { return }
    let message = NeighbourSolicitationMessage(
      target: target, options: NDPOptions(sourceLinkLayerAddress: link.hardwareAddress))
    let destination = unicast == nil ? target.solicitedNodeMulticast : target
    sendNDP(
      message.icmpHeader, body: message.body, source: source, destination: destination,
      linkDestination: unicast ?? MACAddress(multicast: destination), now: now)
    ndpCounters.neighbourSolicitationsSent += 1
  }

  /// Sends the detection solicitation for tentative `address` (RFC 4862 §5.4.2): from the
  /// unspecified address to its solicited-node group, with our nonce (RFC 7527).
  mutating func sendDetectionSolicitation(
    for address: IPv6Address, nonce: [UInt8], now: Instant
  ) {
    let message = NeighbourSolicitationMessage(
      target: address, options: NDPOptions(nonce: nonce))
    let group = address.solicitedNodeMulticast
    sendNDP(
      message.icmpHeader, body: message.body, source: .unspecified, destination: group,
      linkDestination: MACAddress(multicast: group), now: now)
    ndpCounters.neighbourSolicitationsSent += 1
  }

  /// Sends a neighbour advertisement of `target` (ours or proxied) with our link-layer
  /// address, and the router flag while the interface advertises (RFC 4861 §7.2.4: a router's
  /// advertisements without it would make hosts drop it as their default router, §7.2.5). The
  /// override flag is set for an address of ours and clear for a proxied one (§7.2.8: a proxy's
  /// advertisement must not replace the owner's cached link-layer address, should it appear).
  mutating func sendNeighbourAdvertisement(
    for target: IPv6Address, to destination: IPv6Address, linkDestination: MACAddress?,
    solicited: Bool, now: Instant
  ) {
    let isProxied = proxiedAddresses.contains(target)
    let message = NeighbourAdvertisementMessage(
      router: advertiser != nil, solicited: solicited, override: !isProxied, target: target,
      options: NDPOptions(targetLinkLayerAddress: link.hardwareAddress))
    sendNDP(
      message.icmpHeader, body: message.body, source: target, destination: destination,
      linkDestination: linkDestination, now: now)
    ndpCounters.neighbourAdvertisementsSent += 1
  }

  /// Sends a router solicitation to all routers (RFC 4861 §6.3.7): from the link-local
  /// address with our link-layer address, or from the unspecified address without it.
  mutating func sendRouterSolicitation(now: Instant) {
    let source = addressTable.linkLocalAddress ?? .unspecified
    let options =
      source.isUnspecified ? NDPOptions() : NDPOptions(sourceLinkLayerAddress: link.hardwareAddress)
    let message = RouterSolicitationMessage(options: options)
    sendNDP(
      message.icmpHeader, body: message.body, source: source, destination: .allRouters,
      linkDestination: MACAddress(multicast: .allRouters), now: now)
    ndpCounters.routerSolicitationsSent += 1
  }

  /// Builds and sends a neighbour discovery message with hop limit 255. A nil
  /// `linkDestination` resolves `destination` as a neighbour (it sent us a solicitation).
  mutating func sendNDP(
    _ header: ICMPv6Header, body: [UInt8], source: IPv6Address, destination: IPv6Address,
    linkDestination: MACAddress?, now: Instant
  ) {
    let packet = link.makePacketBuffer(
      capacity: headroom + ICMPv6Header.length + body.count,
      headroom: headroom + ICMPv6Header.length)
    packet.append(copying: body.span)
    header.prepend(to: packet, source: source, destination: destination)
    IPv6Header(
      source: source, destination: destination, nextHeader: .icmpv6, payloadLength: packet.count,
      hopLimit: NDPContext.hopLimit
    ).prepend(to: packet)
    if let linkDestination {
      link.send(packet, to: linkDestination, now: now)
      counters.packetsSent += 1
    } else {
      // Only answers go this way, to the on-link sender of a solicitation.
      transmit(packet, toNeighbour: destination, now: now)
    }
  }

  /// Sends an MLDv2 report (RFC 3810 §5.2): from the link-local address (or, before it is
  /// usable, the unspecified address, §5.2.13) to all MLDv2 routers, hop limit 1, with a
  /// router alert in a hop-by-hop options header.
  mutating func sendMulticastListenerReport(_ report: MLDv2ReportMessage, now: Instant) {
    let source = addressTable.linkLocalAddress ?? .unspecified
    let destination = IPv6Address.allMLDv2Routers
    let body = report.body
    let hopByHop: [UInt8] = [
      IPv6NextHeader.icmpv6.rawValue, 0,  // next header, length (8 bytes)
      IPv6OptionType.routerAlert, 2, 0, 0,  // router alert: MLD (RFC 2711)
      IPv6OptionType.padN, 0,  // two bytes of padding
    ]
    let packet = link.makePacketBuffer(
      capacity: headroom + hopByHop.count + ICMPv6Header.length + body.count,
      headroom: headroom + hopByHop.count + ICMPv6Header.length)
    packet.append(copying: body.span)
    report.icmpHeader.prepend(to: packet, source: source, destination: destination)
    packet.prepend(hopByHop.count)
    packet.withMutableBytes { bytes in
      for (index, byte) in hopByHop.enumerated() { bytes[index] = byte }
    }
    IPv6Header(
      source: source, destination: destination, nextHeader: .hopByHopOptions,
      payloadLength: packet.count, hopLimit: 1
    ).prepend(to: packet)
    link.send(packet, to: MACAddress(multicast: destination), now: now)
    counters.packetsSent += 1
    icmpCounters.mldReportsSent += 1
  }

  // MARK: Addresses

  /// `address`, tentative, is another node's.
  private mutating func duplicateDetected(_ address: IPv6Address, now: Instant) {
    ndpCounters.duplicateAddresses += 1
    if address.isLinkLocal { advertiser?.counters.linkLocalDuplicates += 1 }
    apply(addressTable.detectedDuplicate(address, now: now, random: &random), now: now)
  }

  /// Does what changes of the address table ask: groups joined and left, detection
  /// solicitations sent, router solicitation resumed once the link-local address is usable.
  mutating func apply(_ events: [IPv6AddressEvent], now: Instant) {
    for event in events {
      switch event {
      case .added(let address):
        let group = address.solicitedNodeMulticast
        let wasListening = multicast.isListening(to: group)
        if !multicast.join(group, now: now)
          || (!wasListening && !link.joinMulticastGroup(group))
        {
          icmpCounters.mldGroupsRefused += 1
        }
      case .sendDetectionSolicitation(let address, let nonce):
        sendDetectionSolicitation(for: address, nonce: nonce, now: now)
      case .preferred(let address):
        if address.isLinkLocal && routerSolicitationWaitsForLinkLocal {
          routerSolicitationWaitsForLinkLocal = false
          nextRouterSolicitation = now
        }
      case .deprecated:
        break
      case .duplicate(let address), .removed(let address):
        let group = address.solicitedNodeMulticast
        multicast.leave(group, now: now)
        if !multicast.isListening(to: group) { link.leaveMulticastGroup(group) }
        if address.isLinkLocal && routerSolicitationWaitsForLinkLocal
          && !addressTable.addresses.contains(where: {
            $0.origin == .linkLocal && $0.state == .tentative
          })
        {
          // No link-local address will be usable: solicit from the unspecified address.
          routerSolicitationWaitsForLinkLocal = false
          nextRouterSolicitation = now
        }
      }
    }
  }
}
