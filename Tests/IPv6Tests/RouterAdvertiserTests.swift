import IPv6
import NetCore
import Testing

/// The advertising interface (RFC 4861 §6.2): what it advertises, parsed back by the host's
/// parser; its timers in virtual time (§6.2.4); solicitations answered at most once per
/// MIN_DELAY_BETWEEN_RAS (§6.2.6); and the layer as a router: from the link-local address to
/// all nodes with hop limit 255, neighbour advertisements with the router flag, other routers'
/// advertisements not taken in (§6.2.7, RFC 4862 §4).
struct RouterAdvertiserTests {
  static let prefix = IPv6CIDR(address: IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0), prefixLength: 64)
  static let dns = IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 3)
  static let guestLinkLocal = IPv6Address(0xFE80, 0, 0, 0, 0x1234, 0x56FF, 0xFE78, 0x9ABC)
  static let guestMAC = MACAddress(rawValue: 0x0212_3456_789A)

  static var configuration: RouterAdvertiser.Configuration {
    RouterAdvertiser.Configuration(prefix: prefix, dnsServers: [dns], mtu: 1500)
  }

  /// A router advertisement as a host sees it: the packet's addresses and hop limit, and the
  /// message parsed with the parser hosts use.
  struct ReceivedAdvertisement {
    var source: IPv6Address
    var destination: IPv6Address
    var hopLimit: UInt8
    var message: RouterAdvertisementMessage
  }

  func parsed(_ frame: SentFrame) throws -> ReceivedAdvertisement {
    let packet = try IPv6Packet(checking: frame.bytes.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    let type = message.type
    #expect(type == .routerAdvertisement)
    let advertisement = try RouterAdvertisementMessage(
      parsing: message,
      context: NDPContext(
        source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit))
    return ReceivedAdvertisement(
      source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit,
      message: advertisement)
  }

  // MARK: The advertiser alone

  @Test func theAdvertisementCarriesThePrefixMTUAndDNS() throws {
    let advertiser = RouterAdvertiser(configuration: Self.configuration)
    let advertisement = advertiser.advertisement(sourceLinkLayerAddress: LinuxCaptures.macB)
    let source = IPv6Address(0xFE80, 0, 0, 0, 0, 0, 0, 2)
    let bytes = icmpv6Message(
      advertisement.icmpHeader, body: advertisement.body, source: source, destination: .allNodes)
    let message = try ICMPv6Packet(checking: bytes.span, source: source, destination: .allNodes)
    let parsed = try RouterAdvertisementMessage(
      parsing: message,
      context: NDPContext(source: source, destination: .allNodes, hopLimit: 255))
    #expect(parsed == advertisement)
    #expect(parsed.currentHopLimit == 64 && parsed.routerLifetime == 1800)
    #expect(!parsed.managedAddressConfiguration && !parsed.otherConfiguration)
    #expect(parsed.reachableTime == 0 && parsed.retransmitTimer == 0)
    #expect(parsed.options.sourceLinkLayerAddress == LinuxCaptures.macB)
    #expect(parsed.options.mtu == 1500)
    #expect(
      parsed.options.prefixes == [
        NDPPrefixInformation(
          prefix: Self.prefix.prefix, prefixLength: 64, onLink: true, autonomous: true,
          validLifetime: 2_592_000, preferredLifetime: 604_800)
      ])
    #expect(
      parsed.options.recursiveDNSServers == [
        NDPRecursiveDNSServers(lifetime: 1800, servers: [Self.dns])
      ])
    #expect(parsed.options.ignoredOptions == 0)
  }

  @Test func withoutDNSOrMTUThereIsNoSuchOption() {
    let advertiser = RouterAdvertiser(
      configuration: RouterAdvertiser.Configuration(prefix: Self.prefix, dnsServers: [], mtu: nil))
    let options = advertiser.advertisement(sourceLinkLayerAddress: LinuxCaptures.macB).options
    #expect(options.recursiveDNSServers.isEmpty && options.mtu == nil)
    #expect(options.prefixes.count == 1)
  }

  /// §6.2.4: the first at once, the next two within 16 s, the rest between
  /// MinRtrAdvInterval and MaxRtrAdvInterval.
  @Test(arguments: [1, 2, 3, 42] as [UInt64])
  func unsolicitedAdvertisementsKeepTheirIntervals(seed: UInt64) {
    var random = PseudoRandomGenerator(seed: seed)
    var advertiser = RouterAdvertiser(configuration: Self.configuration)
    #expect(advertiser.nextDeadline == nil)
    advertiser.start(now: .zero)
    var sent: [Instant] = []
    var now = Instant.zero
    while now < .zero + .seconds(3600) {
      if advertiser.poll(now: now, random: &random) { sent.append(now) }
      #expect(!advertiser.poll(now: now, random: &random), "one advertisement per due time")
      now = advertiser.nextDeadline!
    }
    #expect(sent.first == .zero)
    let gaps = zip(sent.dropFirst(), sent).map { $0 - $1 }
    for gap in gaps.prefix(3) { #expect(gap <= .seconds(16) && gap > .zero) }
    for gap in gaps.dropFirst(3) { #expect(gap >= .seconds(198) && gap <= .seconds(600)) }
    #expect(advertiser.counters.advertisementsSent == UInt64(sent.count))
    #expect(advertiser.counters.solicitedAdvertisementsSent == 0)
  }

  /// §6.2.6: within MAX_RA_DELAY_TIME, never sooner than MIN_DELAY_BETWEEN_RAS after the
  /// last; every solicitation meanwhile shares the one scheduled.
  @Test func solicitationsAreAnsweredOncePerWindow() {
    var random = PseudoRandomGenerator(seed: 7)
    var advertiser = RouterAdvertiser(configuration: Self.configuration)
    advertiser.start(now: .zero)
    #expect(advertiser.poll(now: .zero, random: &random))  // the first, unsolicited
    let first = advertiser.nextUnsolicited!

    // One second later: due 3 s after the last advertisement, not sooner.
    let now = Instant.zero + .seconds(1)
    #expect(advertiser.receiveSolicitation(now: now, random: &random))
    #expect(advertiser.nextAnswer == .zero + .seconds(3))
    for _ in 0..<1000 { #expect(!advertiser.receiveSolicitation(now: now, random: &random)) }
    #expect(!advertiser.poll(now: .zero + .milliseconds(2999), random: &random))
    #expect(advertiser.poll(now: .zero + .seconds(3), random: &random))
    #expect(advertiser.nextAnswer == nil)
    #expect(advertiser.counters.solicitationsReceived == 1001)
    #expect(advertiser.counters.solicitationsAnswered == 1)
    #expect(advertiser.counters.solicitationsRateLimited == 1000)
    #expect(advertiser.counters.solicitedAdvertisementsSent == 1)
    #expect(advertiser.counters.advertisementsSent == 2)
    #expect(first > .zero)

    // Long after an advertisement: answered within MAX_RA_DELAY_TIME.
    let later = Instant.zero + .seconds(100)
    #expect(advertiser.poll(now: later, random: &random))
    #expect(advertiser.receiveSolicitation(now: later + .seconds(5), random: &random))
    let due = advertiser.nextAnswer!
    #expect(due >= later + .seconds(5) && due < later + .milliseconds(5500))
  }

  /// An unsolicited advertisement due before the answer would be answers the solicitation:
  /// counted once, as answered (nothing limited it), and it becomes the answer that later
  /// solicitations share (those are rate-limited); sent, it counts as solicited.
  @Test func aSoonerUnsolicitedAdvertisementAnswers() {
    var random = PseudoRandomGenerator(seed: 3)
    var advertiser = RouterAdvertiser(configuration: Self.configuration)
    advertiser.start(now: .zero)
    #expect(advertiser.receiveSolicitation(now: .zero, random: &random))
    for _ in 0..<4 { #expect(!advertiser.receiveSolicitation(now: .zero, random: &random)) }
    #expect(advertiser.counters.solicitationsReceived == 5)
    #expect(advertiser.counters.solicitationsAnswered == 1)
    #expect(advertiser.counters.solicitationsRateLimited == 4)
    #expect(advertiser.nextAnswer == .zero)
    #expect(advertiser.poll(now: .zero, random: &random))
    #expect(advertiser.counters.advertisementsSent == 1)
    #expect(advertiser.counters.solicitedAdvertisementsSent == 1)
    #expect(advertiser.nextAnswer == nil)
  }

  /// §6.2.5: when advertising stops, up to MAX_FINAL_RTR_ADVERTISEMENTS final advertisements
  /// with router lifetime 0 (and the DNS servers' lifetime 0, RFC 8106 §5.1), the prefixes
  /// unchanged; nothing is scheduled or answered after them, and none is sent by a router
  /// that never advertised.
  @Test func ceasingGivesFinalAdvertisementsWithLifetimeZero() {
    var random = PseudoRandomGenerator(seed: 5)
    var silent = RouterAdvertiser(configuration: Self.configuration)
    silent.start(now: .zero)
    #expect(silent.cease() == 0 && silent.counters.finalAdvertisementsSent == 0)

    // One that advertised but has no link-local address left to send from: none, counted none.
    var stranded = RouterAdvertiser(configuration: Self.configuration)
    stranded.start(now: .zero)
    #expect(stranded.poll(now: .zero, random: &random))
    #expect(stranded.cease(canSend: false) == 0)
    #expect(stranded.hasCeased && stranded.counters.finalAdvertisementsSent == 0)

    var advertiser = RouterAdvertiser(configuration: Self.configuration)
    advertiser.start(now: .zero)
    #expect(advertiser.poll(now: .zero, random: &random))
    #expect(advertiser.receiveSolicitation(now: .zero + .seconds(1), random: &random))
    #expect(advertiser.cease() == 3)
    #expect(advertiser.hasCeased && advertiser.nextDeadline == nil)
    #expect(advertiser.counters.finalAdvertisementsSent == 3)
    #expect(advertiser.cease() == 0 && advertiser.counters.finalAdvertisementsSent == 3)
    #expect(!advertiser.receiveSolicitation(now: .zero + .seconds(2), random: &random))
    #expect(!advertiser.poll(now: .zero + .seconds(10_000), random: &random))

    let final = advertiser.finalAdvertisement(sourceLinkLayerAddress: LinuxCaptures.macB)
    let usual = advertiser.advertisement(sourceLinkLayerAddress: LinuxCaptures.macB)
    #expect(final.routerLifetime == 0 && usual.routerLifetime == 1800)
    #expect(final.options.recursiveDNSServers.map(\.lifetime) == [0])
    #expect(final.options.recursiveDNSServers.map(\.servers) == [[Self.dns]])
    #expect(final.options.prefixes == usual.options.prefixes)
    #expect(final.options.mtu == 1500)
  }

  /// §6.2.7: other routers that disagree are told apart from those that agree.
  @Test func consistencyWithOtherRouters() {
    let advertiser = RouterAdvertiser(configuration: Self.configuration)
    var theirs = advertiser.advertisement(sourceLinkLayerAddress: LinuxCaptures.macA)
    #expect(advertiser.isConsistent(with: theirs))
    theirs.currentHopLimit = 0
    theirs.reachableTime = 30000
    #expect(advertiser.isConsistent(with: theirs), "unspecified on either side is no conflict")
    var hopLimit = theirs
    hopLimit.currentHopLimit = 255
    #expect(!advertiser.isConsistent(with: hopLimit))
    var managed = theirs
    managed.managedAddressConfiguration = true
    #expect(!advertiser.isConsistent(with: managed))
    var mtu = theirs
    mtu.options.mtu = 1400
    #expect(!advertiser.isConsistent(with: mtu))
    var lifetime = theirs
    lifetime.options.prefixes[0].validLifetime = 60
    #expect(!advertiser.isConsistent(with: lifetime))
    var otherPrefix = theirs
    otherPrefix.options.prefixes[0].prefix = IPv6Address(0xFD01, 0, 0, 0, 0, 0, 0, 0)
    otherPrefix.options.prefixes[0].validLifetime = 60
    #expect(advertiser.isConsistent(with: otherPrefix), "another prefix is another router's")
  }

  // MARK: The layer as a router

  /// A router layer whose link-local address has passed detection.
  func makeRouter() -> IPv6Layer<RecordingLink> {
    var layer = makeLayer(
      addresses: [IPv6CIDR(address: IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 2), prefixLength: 64)])
    layer.startAdvertising(Self.configuration, now: readyAt)
    return layer
  }

  func advertisements(_ frames: [SentFrame]) -> [SentFrame] {
    frames.filter { icmpv6Header(of: $0.bytes)?.type == .routerAdvertisement }
  }

  func solicitation(from source: IPv6Address, mac: MACAddress?) -> [UInt8] {
    let message = RouterSolicitationMessage(options: NDPOptions(sourceLinkLayerAddress: mac))
    return icmpv6Packet(
      message.icmpHeader, body: message.body, source: source, destination: .allRouters)
  }

  @Test func theLayerAdvertisesFromItsLinkLocalAddress() throws {
    var layer = makeRouter()
    #expect(layer.isAdvertisingRouter)
    #expect(layer.link.groups.contains(.allRouters))
    layer.poll(now: readyAt)
    let sent = advertisements(layer.takeSent())
    #expect(sent.count == 1)
    let received = try parsed(sent[0])
    #expect(received.source == layer.addressTable.linkLocalAddress)
    #expect(received.destination == .allNodes && received.hopLimit == 255)
    #expect(sent[0].destination == MACAddress(multicast: .allNodes))
    #expect(received.message.options.sourceLinkLayerAddress == layer.link.hardwareAddress)
    #expect(received.message.options.prefixes.map(\.prefix) == [Self.prefix.prefix])
    #expect(layer.nextDeadline! > readyAt)
  }

  /// Until the link-local address has passed detection, nothing is sent and the layer does
  /// not ask to be polled for it (no busy loop).
  @Test func nothingBeforeTheLinkLocalAddressIsUsable() throws {
    var layer = IPv6Layer(
      link: RecordingLink(), configuration: quietConfiguration, secretKey: testSecretKey,
      randomSeed: 5)
    layer.start(now: .zero)
    layer.startAdvertising(Self.configuration, now: .zero)
    var now = Instant.zero
    var advertisedAt: Instant?
    while now < .zero + .seconds(5) {
      layer.poll(now: now)
      if !advertisements(layer.takeSent()).isEmpty, advertisedAt == nil { advertisedAt = now }
      if layer.addressTable.linkLocalAddress == nil {
        #expect(advertisedAt == nil)
        #expect(layer.nextDeadline.map { $0 >= now } ?? true)
      }
      now += .milliseconds(100)
    }
    #expect(advertisedAt != nil)
  }

  @Test func aSolicitationIsAnsweredAndAFloodIsNot() throws {
    var layer = makeRouter()
    layer.poll(now: readyAt)
    _ = layer.takeSent()
    var now = readyAt + .seconds(10)
    _ = layer.receive(
      solicitation(from: Self.guestLinkLocal, mac: Self.guestMAC), multicast: true, at: now)
    // The guest's address is learnt (STALE, not a router: §6.2.6).
    let entry = layer.neighbourCache.entry(for: Self.guestLinkLocal)
    #expect(entry?.state.linkLayerAddress == Self.guestMAC && entry?.isRouter == false)
    // 2,000 more in the next 10 s, from the unspecified address and from others.
    var sentCount = 0
    for index in 0..<2000 {
      let source =
        index % 2 == 0
        ? IPv6Address.unspecified
        : IPv6Address(0xFE80, 0, 0, 0, 0, 0, 0, UInt16(index))
      _ = layer.receive(
        solicitation(from: source, mac: source.isUnspecified ? nil : Self.guestMAC),
        multicast: true, at: now)
      now += .milliseconds(5)
      layer.poll(now: now)
      sentCount += advertisements(layer.takeSent()).count
    }
    // 10 s of flood, one advertisement per 3 s at most.
    #expect(sentCount >= 3 && sentCount <= 4)
    let counters = layer.advertiser!.counters
    #expect(counters.solicitationsReceived == 2001)
    // Each answered solicitation scheduled one advertisement: sent, or (the last) still due.
    let pending: UInt64 = layer.advertiser!.nextAnswer == nil ? 0 : 1
    #expect(counters.solicitedAdvertisementsSent == UInt64(sentCount))
    #expect(counters.solicitationsAnswered == UInt64(sentCount) + pending)
    #expect(counters.solicitationsRateLimited == 2001 - counters.solicitationsAnswered)
    #expect(layer.neighbourCache.entries.count <= 256)
  }

  /// A host does not listen to all-routers, and discards a solicitation sent to its own
  /// address (RFC 4861 §6.1.1).
  @Test func aHostIgnoresSolicitations() {
    var layer = makeLayer()
    _ = layer.receive(
      solicitation(from: Self.guestLinkLocal, mac: Self.guestMAC), multicast: true,
      at: readyAt + .seconds(1))
    #expect(layer.counters.droppedNotForUs == 1)
    let message = RouterSolicitationMessage(
      options: NDPOptions(sourceLinkLayerAddress: Self.guestMAC))
    _ = layer.receive(
      icmpv6Packet(
        message.icmpHeader, body: message.body, source: Self.guestLinkLocal,
        destination: layer.addressTable.linkLocalAddress!),
      at: readyAt + .seconds(1))
    layer.poll(now: readyAt + .seconds(2))
    #expect(advertisements(layer.takeSent()).isEmpty)
    #expect(layer.ndpCounters.routerSolicitationsReceived == 1)
    #expect(layer.advertiser == nil)
    #expect(layer.neighbourCache.entry(for: Self.guestLinkLocal) == nil)
  }

  @Test func neighbourAdvertisementsCarryTheRouterFlag() throws {
    var layer = makeRouter()
    let target = layer.addressTable.linkLocalAddress!
    let solicitation = NeighbourSolicitationMessage(
      target: target, options: NDPOptions(sourceLinkLayerAddress: Self.guestMAC))
    _ = layer.receive(
      icmpv6Packet(
        solicitation.icmpHeader, body: solicitation.body, source: Self.guestLinkLocal,
        destination: target.solicitedNodeMulticast),
      multicast: true, at: readyAt)
    let answers = layer.takeSent().filter {
      icmpv6Header(of: $0.bytes)?.type == .neighbourAdvertisement
    }
    #expect(answers.count == 1)
    let bytes = answers[0].bytes
    let packet = try IPv6Packet(checking: bytes.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    let advertisement = try NeighbourAdvertisementMessage(
      parsing: message,
      context: NDPContext(
        source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit))
    #expect(advertisement.router && advertisement.solicited)
  }

  /// Another router's advertisement of another prefix: counted, nothing taken in (no router,
  /// prefix, address, MTU or DNS server), and checked for consistency.
  @Test func otherRoutersAreNotTakenIn() {
    var layer = makeRouter()
    let other = RouterAdvertisementMessage(
      currentHopLimit: 32,
      options: NDPOptions(
        sourceLinkLayerAddress: Self.guestMAC, mtu: 1400,
        prefixes: [
          NDPPrefixInformation(
            prefix: IPv6Address(0xFD99, 0, 0, 0, 0, 0, 0, 0), prefixLength: 64, onLink: true,
            autonomous: true, validLifetime: 3600, preferredLifetime: 1800)
        ],
        recursiveDNSServers: [
          NDPRecursiveDNSServers(
            lifetime: 600, servers: [IPv6Address(0xFD99, 0, 0, 0, 0, 0, 0, 53)])
        ]))
    let addressesBefore = layer.addresses
    let mtuBefore = layer.mtu
    _ = layer.receive(
      icmpv6Packet(
        other.icmpHeader, body: other.body, source: Self.guestLinkLocal, destination: .allNodes),
      multicast: true, at: readyAt)
    layer.poll(now: readyAt + .seconds(5))
    #expect(layer.routers.routers.isEmpty)
    #expect(layer.dnsServers.servers.isEmpty)
    #expect(layer.addresses.map(\.address) == addressesBefore.map(\.address))
    #expect(layer.mtu == mtuBefore && layer.hopLimit == 64)
    #expect(!layer.prefixes.isOnLink(IPv6Address(0xFD99, 0, 0, 0, 0, 0, 0, 1)))
    let counters = layer.advertiser!.counters
    #expect(counters.otherRouterAdvertisements == 1)
    #expect(counters.inconsistentAdvertisements == 1)
  }

  /// A host layer (router solicitation and SLAAC on) on the same link as a router layer takes
  /// in what the router advertises: the default router (the router's link-local address), the
  /// on-link prefix, an address inside it, the DNS server and the MTU.
  @Test func aHostConfiguresItselfFromTheRouter() {
    var network = TwoLayerTests.Network(configuration: IPv6Layer<RecordingLink>.Configuration())
    network.a.start(now: .zero)
    network.b.start(now: .zero)
    try! network.a.addAddress(
      IPv6CIDR(address: IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 2), prefixLength: 64), now: .zero)
    network.a.startAdvertising(
      RouterAdvertiser.Configuration(prefix: Self.prefix, dnsServers: [Self.dns], mtu: 1400),
      now: .zero)
    network.run(until: .zero + .seconds(8))
    let router = network.a.addressTable.linkLocalAddress!
    let host = network.b
    #expect(host.routers.routers.map(\.address) == [router])
    #expect(host.neighbourCache.entry(for: router)?.isRouter == true)
    #expect(
      host.addresses.contains {
        $0.origin == .autoconfigured && Self.prefix.contains($0.address) && $0.state == .preferred
      })
    #expect(host.prefixes.isOnLink(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0x99)))
    #expect(host.dnsServers.servers.map(\.address) == [Self.dns])
    #expect(host.mtu == 1400)
    // The router took nothing in from the host, and the host never advertised.
    #expect(network.a.routers.routers.isEmpty && network.a.ndpCounters.routerSolicitationsSent == 0)
    #expect(network.a.advertiser!.counters.advertisementsSent >= 1)

    // The router stops (RFC 4861 §6.2.5): its final advertisements make the host drop it as
    // default router and forget the DNS server at once; the address and prefix stay.
    network.a.ceaseAdvertising(now: .zero + .seconds(8))
    #expect(network.a.advertiser!.counters.finalAdvertisementsSent == 3)
    network.run(until: .zero + .seconds(9))
    #expect(network.b.routers.routers.isEmpty)
    #expect(network.b.dnsServers.servers.isEmpty)
    #expect(network.b.prefixes.isOnLink(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0x99)))
    #expect(
      network.b.addresses.contains {
        $0.origin == .autoconfigured && Self.prefix.contains($0.address) && $0.state == .preferred
      })
  }

  /// The final advertisements in virtual time: three at once, from the link-local address to
  /// all nodes with router lifetime 0; after them nothing, not even for a solicitation.
  @Test func theLayerSendsItsFinalAdvertisementsAndThenNothing() throws {
    var layer = makeRouter()
    layer.poll(now: readyAt)
    #expect(advertisements(layer.takeSent()).count == 1)
    let stop = readyAt + .seconds(30)
    layer.ceaseAdvertising(now: stop)
    let finals = advertisements(layer.takeSent())
    #expect(finals.count == 3)
    for frame in finals {
      let received = try parsed(frame)
      #expect(received.message.routerLifetime == 0)
      #expect(received.source == layer.addressTable.linkLocalAddress)
      #expect(received.destination == .allNodes && received.hopLimit == 255)
    }
    #expect(layer.isAdvertisingRouter)
    _ = layer.receive(
      solicitation(from: Self.guestLinkLocal, mac: Self.guestMAC), multicast: true,
      at: stop + .seconds(1))
    var now = stop + .seconds(1)
    while now < stop + .seconds(2000) {
      layer.poll(now: now)
      now += .seconds(10)
    }
    #expect(advertisements(layer.takeSent()).isEmpty)
    layer.ceaseAdvertising(now: now)
    #expect(advertisements(layer.takeSent()).isEmpty)
  }

  /// When the link-local address fails detection (another node answers for it) and no retry
  /// is left, advertising cannot go on: counted, and the layer says so.
  @Test func aDuplicateLinkLocalAddressHaltsAdvertisingVisibly() throws {
    var configuration = quietConfiguration
    configuration.addresses.identifierRetries = 0
    var layer = IPv6Layer(
      link: RecordingLink(), configuration: configuration, secretKey: testSecretKey,
      randomSeed: 9)
    layer.start(now: .zero)
    layer.startAdvertising(Self.configuration, now: .zero)
    let tentative = try #require(layer.addresses.first { $0.origin == .linkLocal }?.address)
    #expect(!layer.advertisingHaltedWithoutLinkLocal)
    // Another node's advertisement of the address: a duplicate.
    let advertisement = NeighbourAdvertisementMessage(
      solicited: false, override: true, target: tentative,
      options: NDPOptions(targetLinkLayerAddress: Self.guestMAC))
    _ = layer.receive(
      icmpv6Packet(
        advertisement.icmpHeader, body: advertisement.body, source: Self.guestLinkLocal,
        destination: .allNodes),
      multicast: true, at: .zero + .milliseconds(10))
    #expect(layer.advertiser!.counters.linkLocalDuplicates == 1)
    #expect(layer.advertisingHaltedWithoutLinkLocal)
    var now = Instant.zero
    while now < .zero + .seconds(30) {
      layer.poll(now: now)
      now += .milliseconds(500)
    }
    #expect(advertisements(layer.takeSent()).isEmpty)
  }
}
