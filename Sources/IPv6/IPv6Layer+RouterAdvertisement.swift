import NetCore

extension IPv6Layer {
  // MARK: The advertising interface (RFC 4861 §6.2)

  /// Makes the interface an advertising interface (RFC 4861 §6.2.2): it joins the
  /// all-routers group, stops soliciting routers, answers router solicitations, marks its
  /// neighbour advertisements with the router flag, and sends router advertisements from its
  /// link-local address once that address is usable. From then on it is a router on this
  /// link: other routers' advertisements are checked for consistency (§6.2.7) and counted,
  /// never taken in (no default router, prefix, MTU, hop limit or address comes from them,
  /// RFC 4862 §4).
  public mutating func startAdvertising(
    _ configuration: RouterAdvertiser.Configuration, now: Instant
  ) {
    guard advertiser == nil else { return }
    var advertiser = RouterAdvertiser(configuration: configuration)
    advertiser.start(now: now)
    self.advertiser = advertiser
    let wasListening = multicast.isListening(to: .allRouters)
    if !multicast.join(.allRouters, now: now)
      || (!wasListening && !link.joinMulticastGroup(.allRouters))
    {
      icmpCounters.mldGroupsRefused += 1
    }
    routerSolicitationsLeft = 0
    nextRouterSolicitation = nil
    routerSolicitationWaitsForLinkLocal = false
  }

  /// Whether the interface advertises itself as a router.
  public var isAdvertisingRouter: Bool { advertiser != nil }

  /// A router solicitation (RFC 4861 §6.2.6): a host discards it (§6.1.1); the advertising
  /// interface records the sender's link-layer address (a STALE entry, not a router) and
  /// schedules an advertisement, at most one per MIN_DELAY_BETWEEN_RAS however many arrive.
  mutating func receiveRouterSolicitation(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    ndpCounters.routerSolicitationsReceived += 1
    guard advertiser != nil else { return }
    let solicitation: RouterSolicitationMessage
    do {
      solicitation = try RouterSolicitationMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    if !context.source.isUnspecified, let mac = solicitation.options.sourceLinkLayerAddress {
      let released = neighbourCache.learn(
        context.source, linkLayerAddress: mac, isRouter: false, now: now)
      for packet in released { transmit(packet, toLinkLayer: mac, now: now) }
      ndpCounters.cacheEvictions = neighbourCache.evictions
    }
    advertiser!.receiveSolicitation(now: now, random: &random)
  }

  /// Another router's advertisement, received while advertising (RFC 4861 §6.2.7): checked
  /// against ours and counted; nothing of it is taken in.
  mutating func receiveRouterAdvertisementAsRouter(
    _ message: borrowing ICMPv6Packet, context: NDPContext, now: Instant
  ) {
    let advertisement: RouterAdvertisementMessage
    do {
      advertisement = try RouterAdvertisementMessage(parsing: message, context: context)
    } catch {
      countInvalid(error)
      return
    }
    ndpCounters.routerAdvertisementsReceived += 1
    if addressTable.entry(for: context.source) != nil {
      advertiser!.counters.ownAdvertisementsSeen += 1
      return
    }
    advertiser!.counters.otherRouterAdvertisements += 1
    if !advertiser!.isConsistent(with: advertisement) {
      advertiser!.counters.inconsistentAdvertisements += 1
    }
  }

  /// Sends the advertisement that is due (RFC 4861 §6.2.4, §6.2.6), from the link-local
  /// address to all nodes with hop limit 255. Until the link-local address is usable (through
  /// duplicate address detection) nothing is sent and the advertisement stays due.
  mutating func pollAdvertiser(now: Instant) {
    guard advertiser != nil, let source = addressTable.linkLocalAddress else { return }
    guard advertiser!.poll(now: now, random: &random) else { return }
    let message = advertiser!.advertisement(sourceLinkLayerAddress: link.hardwareAddress)
    sendNDP(
      message.icmpHeader, body: message.body, source: source, destination: .allNodes,
      linkDestination: MACAddress(multicast: .allNodes), now: now)
  }

  /// Stops advertising (RFC 4861 §6.2.5, the interface ceases to be an advertising interface:
  /// the daemon stops): sends the final advertisements, router lifetime 0, to all nodes at
  /// once, so that hosts drop us as their default router now rather than when the lifetime
  /// runs out (``RouterAdvertiser/cease(canSend:)``: up to 3, none if no advertisement went out or
  /// there is no usable link-local address to send them from). Solicitations are not answered
  /// after it. The caller flushes the link.
  public mutating func ceaseAdvertising(now: Instant) {
    guard advertiser != nil, let source = addressTable.linkLocalAddress else {
      _ = advertiser?.cease(canSend: false)  // nothing sent, nothing counted
      return
    }
    let count = advertiser!.cease()
    guard count > 0 else { return }
    let message = advertiser!.finalAdvertisement(sourceLinkLayerAddress: link.hardwareAddress)
    for _ in 0..<count {
      sendNDP(
        message.icmpHeader, body: message.body, source: source, destination: .allNodes,
        linkDestination: MACAddress(multicast: .allNodes), now: now)
    }
  }

  /// Whether the interface is an advertising interface that cannot advertise: its link-local
  /// address failed duplicate address detection (every retry, RFC 7217 §6) and none is left
  /// being checked, so no advertisement can be sent (RFC 4861 §6.2.2 sends them from it).
  public var advertisingHaltedWithoutLinkLocal: Bool {
    guard let advertiser, !advertiser.hasCeased else { return false }
    return !addressTable.addresses.contains {
      $0.origin == .linkLocal && $0.state != .duplicate
    }
  }

  /// When the advertiser next needs a poll: never while there is no usable link-local
  /// address (its detection's own deadline wakes the layer).
  var advertiserDeadline: Instant? {
    guard addressTable.linkLocalAddress != nil else { return nil }
    return advertiser?.nextDeadline
  }
}
