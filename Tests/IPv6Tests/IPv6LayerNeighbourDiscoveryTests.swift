import IPv6
import NetCore
import Testing

/// Neighbour discovery, address configuration and MLD through the layer: resolution,
/// detection against the kernel's packets, router advertisements, redirects, packet too big.
struct IPv6LayerNeighbourDiscoveryTests {
  let globalB = IPv6CIDR(address: LinuxCaptures.globalB, prefixLength: 64)
  let globalA = IPv6CIDR(address: LinuxCaptures.globalA, prefixLength: 64)

  func udp(_ count: Int = 8) -> PacketBuffer {
    let buffer = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + count)
    buffer.append(count)
    buffer.withMutableBytes { $0.zero(from: 0, count: count) }
    return buffer
  }

  /// A's advertisement of `target` at `mac`, solicited unless told, to `destination`.
  func advertisement(
    _ target: IPv6Address, mac: MACAddress?, to destination: IPv6Address, solicited: Bool = true,
    router: Bool = false
  ) -> [UInt8] {
    var rest: UInt32 = 0x2000_0000
    if solicited { rest |= 0x4000_0000 }
    if router { rest |= 0x8000_0000 }
    let option: [UInt8] = mac.map { [2, 1] + $0.octets6 } ?? []
    return icmpv6Packet(
      ICMPv6Header(type: .neighbourAdvertisement, code: 0, restOfHeader: rest),
      body: target.octets + option, source: target, destination: destination)
  }

  // MARK: Resolution

  @Test func resolvesQueuesAndReleases() throws {
    var layer = makeLayer(addresses: [globalB])
    try layer.send(udp(), nextHeader: .udp, to: LinuxCaptures.globalA, options: .init(), now: at(5))
    try layer.send(udp(), nextHeader: .udp, to: LinuxCaptures.globalA, options: .init(), now: at(5))
    var sent = layer.takeSent()
    // One solicitation, as Linux's for the same target from the same source.
    #expect(sent.count == 1)
    #expect(
      sent[0].destination == MACAddress(multicast: LinuxCaptures.globalA.solicitedNodeMulticast))
    let solicitation = header(of: sent[0].bytes)
    #expect(solicitation.source == LinuxCaptures.globalB && solicitation.hopLimit == 255)
    #expect(solicitation.destination == LinuxCaptures.globalA.solicitedNodeMulticast)
    // A answers: both packets go.
    _ = layer.receive(
      advertisement(LinuxCaptures.globalA, mac: LinuxCaptures.macA, to: LinuxCaptures.globalB),
      at: at(5.1))
    sent = layer.takeSent()
    #expect(sent.count == 2 && sent.allSatisfy { $0.destination == LinuxCaptures.macA })
    #expect(sent.allSatisfy { header(of: $0.bytes).nextHeader == .udp })
    #expect(layer.neighbourCache.entry(for: LinuxCaptures.globalA)?.state.name == "REACHABLE")
  }

  @Test func unansweredResolutionFails() throws {
    var layer = makeLayer(addresses: [globalB])
    try layer.send(udp(), nextHeader: .udp, to: LinuxCaptures.globalA, options: .init(), now: at(5))
    var solicitations = layer.takeSent().count
    var now = at(5)
    while now < at(10) {
      now += .milliseconds(100)
      layer.poll(now: now)
      solicitations += layer.takeSent().count
    }
    #expect(solicitations == 3)
    #expect(layer.ndpCounters.resolutionFailures == 1 && layer.ndpCounters.pendingTimedOut == 1)
    #expect(layer.neighbourCache.entry(for: LinuxCaptures.globalA) == nil)
  }

  @Test func probesAStaleNeighbourLikeLinux() throws {
    var layer = makeLayer(addresses: [globalB])
    _ = layer.receive(LinuxCaptures.neighbourSolicitation, multicast: true, at: at(5))
    _ = layer.takeSent()
    // STALE from the solicitation; used at 5: DELAY, then at 10 a unicast probe to A's MAC.
    layer.poll(now: at(10))
    let sent = layer.takeSent()
    #expect(sent.count == 1 && sent.first?.destination == LinuxCaptures.macA)
    #expect(header(of: sent[0].bytes).destination == LinuxCaptures.globalA)
    #expect(icmpTypes(sent) == [.neighbourSolicitation])
  }

  // MARK: Duplicate address detection

  @Test func detectionSolicitationIsLinuxs() {
    // A's MAC and the capture's link-local address as a configured one: our detection
    // solicitation is the kernel's but for the nonce.
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    try! layer.addAddress(IPv6CIDR(address: LinuxCaptures.linkLocalA, prefixLength: 64), now: at(5))
    var sent: [SentFrame] = []
    var now = at(5)
    while sent.isEmpty || icmpTypes(sent).last != .neighbourSolicitation {
      now += .milliseconds(50)
      layer.poll(now: now)
      sent += layer.takeSent()
    }
    let detection = sent.last!
    #expect(
      detection.destination
        == MACAddress(multicast: LinuxCaptures.linkLocalA.solicitedNodeMulticast))
    // All but the checksum (bytes 42-43) and the nonce (66-71).
    #expect(Array(detection.bytes[..<42]) == Array(LinuxCaptures.detectionSolicitation[..<42]))
    #expect(Array(detection.bytes[44..<66]) == Array(LinuxCaptures.detectionSolicitation[44..<66]))
    #expect(detection.bytes.count == LinuxCaptures.detectionSolicitation.count)
  }

  @Test func kernelsDetectionMakesOurTentativeAddressDuplicate() {
    var layer = makeLayer()
    try! layer.addAddress(IPv6CIDR(address: LinuxCaptures.linkLocalA, prefixLength: 64), now: at(5))
    _ = layer.receive(LinuxCaptures.detectionSolicitation, multicast: true, at: at(5.1))
    #expect(layer.addresses.first { $0.address == LinuxCaptures.linkLocalA }?.state == .duplicate)
    #expect(layer.ndpCounters.duplicateAddresses == 1)
    // Never used afterwards, its group left.
    layer.poll(now: at(10))
    #expect(!layer.has(LinuxCaptures.linkLocalA))
    #expect(!layer.link.groups.contains(LinuxCaptures.linkLocalA.solicitedNodeMulticast))
  }

  @Test func ownDetectionLoopedBackIsNoDuplicate() {
    var layer = makeLayer()
    try! layer.addAddress(globalB, now: at(5))
    var sent: [SentFrame] = []
    var now = at(5)
    while sent.isEmpty {
      now += .milliseconds(50)
      layer.poll(now: now)
      sent = layer.takeSent().filter { icmpTypes([$0]) == [.neighbourSolicitation] }
    }
    // The same solicitation comes back (a looped link): our nonce, ignored (RFC 7527).
    _ = layer.receive(sent[0].bytes, multicast: true, at: now)
    layer.poll(now: now + .seconds(1))
    #expect(layer.has(LinuxCaptures.globalB))
    #expect(layer.ndpCounters.detectionLoopedBack == 1)
  }

  @Test func advertisementOfTentativeAddressMakesItDuplicate() {
    var layer = makeLayer()
    try! layer.addAddress(globalB, now: at(5))
    // B's kernel announces fd00:77::2 (as its unsolicited advertisement does for its address).
    _ = layer.receive(
      advertisement(
        LinuxCaptures.globalB, mac: LinuxCaptures.macA, to: .allNodes, solicited: false),
      multicast: true, at: at(5.2))
    layer.poll(now: at(10))
    #expect(!layer.has(LinuxCaptures.globalB))
    #expect(layer.addresses.first { $0.address == LinuxCaptures.globalB }?.state == .duplicate)
  }

  @Test func usedAddressIsDefendedAndConflictsCounted() {
    var layer = makeLayer(addresses: [globalB])
    // Another node's detection of our address: an advertisement to all nodes.
    let detection = icmpv6Packet(
      ICMPv6Header(type: .neighbourSolicitation, code: 0), body: LinuxCaptures.globalB.octets,
      source: .unspecified, destination: LinuxCaptures.globalB.solicitedNodeMulticast)
    _ = layer.receive(detection, multicast: true, at: at(5))
    let sent = layer.takeSent()
    #expect(sent.first?.destination == MACAddress(multicast: .allNodes))
    let answer = icmpv6Header(of: sent[0].bytes)
    #expect(answer?.type == .neighbourAdvertisement && answer?.restOfHeader == 0x2000_0000)
    // Someone advertising our address: counted, address kept.
    _ = layer.receive(
      advertisement(
        LinuxCaptures.globalB, mac: LinuxCaptures.macA, to: .allNodes, solicited: false),
      multicast: true, at: at(6))
    #expect(layer.ndpCounters.addressConflicts == 1)
    #expect(layer.has(LinuxCaptures.globalB))
  }

  // MARK: Routers

  @Test func takesInTheCapturedRouterAdvertisement() {
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    #expect(layer.routers.routers.map(\.address) == [LinuxCaptures.linkLocalR])
    #expect(layer.routers.routers.first?.expires == at(17))
    #expect(layer.prefixes.isOnLink(LinuxCaptures.globalB))
    #expect(
      layer.dnsServers.servers.map(\.address) == [IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x53)])
    #expect(layer.mtu == 1500 && layer.hopLimit == 64)
    #expect(layer.neighbourCache.entry(for: LinuxCaptures.linkLocalR)?.isRouter == true)
    #expect(
      layer.neighbourCache.entry(for: LinuxCaptures.linkLocalR)?.state.linkLayerAddress
        == LinuxCaptures.macR)
    // SLAAC: a tentative address in fd00:77::/64, then preferred after detection.
    let formed = layer.addresses.filter { $0.origin == .autoconfigured }
    #expect(formed.count == 1 && formed.first?.state == .tentative)
    var now = at(5)
    while now < at(8) {
      now += .milliseconds(100)
      layer.poll(now: now)
    }
    let address = formed[0].address
    #expect(layer.has(address))
    #expect(address.masked(prefixLength: 64) == LinuxCaptures.prefix)
    // Off-link traffic now goes to R.
    _ = layer.takeSent()
    let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
    try? layer.send(udp(), nextHeader: .udp, to: far, options: .init(), now: now)
    let sent = layer.takeSent()
    #expect(sent.first?.destination == LinuxCaptures.macR)
    #expect(header(of: sent[0].bytes).source == address)
    // Its lifetime runs out: off-link traffic has no route.
    layer.poll(now: at(17))
    #expect(layer.routers.routers.isEmpty)
    #expect(throws: IPv6SendError.noRoute) {
      try layer.send(udp(), nextHeader: .udp, to: far, options: .init(), now: at(18))
    }
  }

  @Test func finalAdvertisementRemovesTheRouter() {
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    _ = layer.receive(LinuxCaptures.finalRouterAdvertisement, multicast: true, at: at(6))
    #expect(layer.routers.routers.isEmpty)
  }

  @Test func advertisedMTUWithinBounds() {
    var layer = makeLayer(mtu: 9000, hardwareAddress: LinuxCaptures.macA)
    func advertise(_ mtu: UInt32) {
      let message = RouterAdvertisementMessage(options: NDPOptions(mtu: mtu))
      _ = layer.receive(
        icmpv6Packet(
          message.icmpHeader, body: message.body, source: LinuxCaptures.linkLocalR,
          destination: .allNodes),
        multicast: true, at: at(5))
    }
    advertise(1400)
    #expect(layer.mtu == 1400)
    advertise(1000)
    advertise(9001)
    #expect(layer.mtu == 1400)
    #expect(layer.ndpCounters.mtuOptionsIgnored == 2)
  }

  @Test func advertisedRetransmitTimerIsCutToAMinute() throws {
    // Found by Fuzz/IPv6Layer: a router's RetransTimer of 2818 s kept a packet waiting for
    // resolution for hours (three solicitations that far apart).
    var layer = makeLayer(addresses: [globalB])
    let message = RouterAdvertisementMessage(retransmitTimer: 2_818_048)
    _ = layer.receive(
      icmpv6Packet(
        message.icmpHeader, body: message.body, source: LinuxCaptures.linkLocalR,
        destination: .allNodes),
      multicast: true, at: at(5))
    #expect(layer.neighbourCache.retransmitTimer == .seconds(60))
    try layer.send(udp(), nextHeader: .udp, to: LinuxCaptures.globalA, options: .init(), now: at(5))
    var solicitations = layer.takeSent().count
    var now = at(5)
    while now < at(5 + 181) {
      now += .seconds(1)
      layer.poll(now: now)
      solicitations += layer.takeSent().count
    }
    #expect(solicitations == 3)
    #expect(layer.ndpCounters.resolutionFailures == 1 && layer.neighbourCache.queuedPackets == 0)
    // A shorter one is taken as it is.
    let quick = RouterAdvertisementMessage(retransmitTimer: 1500)
    _ = layer.receive(
      icmpv6Packet(
        quick.icmpHeader, body: quick.body, source: LinuxCaptures.linkLocalR,
        destination: .allNodes),
      multicast: true, at: now)
    #expect(layer.neighbourCache.retransmitTimer == .milliseconds(1500))
  }

  @Test func advertisementsOffTheLinkAreRefused() {
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    var forwarded = LinuxCaptures.routerAdvertisement
    forwarded[7] = 254  // hop limit: crossed a router
    _ = layer.receive(forwarded, multicast: true, at: at(5))
    #expect(layer.routers.routers.isEmpty)
    #expect(layer.ndpCounters.droppedHopLimit == 1)
  }

  @Test func routerSolicitationsAtStart() {
    var configuration = IPv6Layer<RecordingLink>.Configuration()
    configuration.routerSolicitations = 3
    var link = RecordingLink()
    link.hardwareAddress = LinuxCaptures.macA
    var layer = IPv6Layer(
      link: link, configuration: configuration, secretKey: testSecretKey, randomSeed: 7)
    layer.start(now: .zero)
    var solicitations: [(Instant, SentFrame)] = []
    var now = Instant.zero
    while now < at(20) {
      now += .milliseconds(50)
      layer.poll(now: now)
      for frame in layer.takeSent() where icmpTypes([frame]) == [.routerSolicitation] {
        solicitations.append((now, frame))
      }
    }
    // Three, 4 s apart, the first once the link-local address is usable, from it, with SLLA.
    #expect(solicitations.count == 3)
    guard solicitations.count == 3 else { return }
    #expect(solicitations[1].0 - solicitations[0].0 == .seconds(4))
    let first = header(of: solicitations[0].1.bytes)
    #expect(first.source.isLinkLocal && first.destination == .allRouters && first.hopLimit == 255)
    #expect(solicitations[0].1.bytes.count == 56)
    #expect(layer.ndpCounters.routerSolicitationsSent == 3)
  }

  @Test func advertisementStopsSolicitations() {
    var configuration = IPv6Layer<RecordingLink>.Configuration()
    configuration.routerSolicitations = 3
    var layer = makeLayer(configuration: configuration, hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(3))
    var now = at(3)
    while now < at(15) {
      now += .milliseconds(100)
      layer.poll(now: now)
    }
    #expect(icmpTypes(layer.takeSent()).allSatisfy { $0 != .routerSolicitation })
    #expect(layer.ndpCounters.routerSolicitationsSent == 1)
  }

  @Test func capturedRedirect() throws {
    // A with its autoconfigured address and R as its router, then R's redirect.
    var layer = makeLayer(addresses: [globalA], hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    let far = IPv6Address(0xfd00, 0x99, 0, 0, 0, 0, 0, 2)
    _ = layer.receive(LinuxCaptures.redirect, at: at(6))
    #expect(layer.redirects.nextHop(for: far) == LinuxCaptures.linkLocalB)
    #expect(layer.ndpCounters.redirectsReceived == 1)
    _ = layer.takeSent()
    try layer.send(udp(), nextHeader: .udp, to: far, options: .init(), now: at(7))
    #expect(layer.takeSent().first?.destination == LinuxCaptures.macB)
  }

  @Test func redirectFromAnotherRouterIsRefused() {
    var layer = makeLayer(addresses: [globalA], hardwareAddress: LinuxCaptures.macA)
    // No router yet: R is not the first hop for fd00:99::2.
    _ = layer.receive(LinuxCaptures.redirect, at: at(6))
    #expect(layer.redirects.redirects.isEmpty)
    #expect(layer.ndpCounters.droppedRedirects == 1)
  }

  @Test func routerThatStopsBeingOneLeavesTheList() {
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    _ = layer.receive(
      advertisement(
        LinuxCaptures.linkLocalR, mac: LinuxCaptures.macR, to: .allNodes, solicited: false,
        router: false),
      multicast: true, at: at(6))
    #expect(layer.routers.routers.isEmpty)
  }

  @Test func configuredGateway() throws {
    var layer = makeLayer(addresses: [globalB])
    layer.setGateway(LinuxCaptures.linkLocalR, now: at(5))
    let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
    try layer.send(udp(), nextHeader: .udp, to: far, options: .init(), now: at(5))
    let sent = layer.takeSent()
    #expect(
      sent.first.map { header(of: $0.bytes).destination }
        == LinuxCaptures.linkLocalR.solicitedNodeMulticast)
    layer.setGateway(nil, now: at(6))
    #expect(throws: IPv6SendError.noRoute) {
      try layer.send(udp(), nextHeader: .udp, to: far, options: .init(), now: at(6))
    }
  }

  // MARK: Path MTU

  @Test func packetTooBigLowersThePathMTU() throws {
    var layer = makeLayer(addresses: [globalA], hardwareAddress: LinuxCaptures.macA)
    let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
    #expect(layer.pathMTU(to: far) == 1500)
    // The captured one quotes A's echo: the estimate falls, nothing for a transport.
    #expect(layer.receive(LinuxCaptures.packetTooBig, at: at(5)).isConsumed)
    #expect(layer.pathMTU(to: far) == 1280)
    #expect(layer.maximumPayloadSize(to: far) == 1240)
    #expect(layer.icmpCounters.pathMTUsLowered == 1)
    // One quoting a UDP packet of ours is handed to the transport.
    let quoted = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: far, nextHeader: .udp, payloadLength: 0),
      payload: [0x9c, 0x41, 0, 9, 0, 16, 0, 0] + [UInt8](repeating: 7, count: 1352))
    let tooBig = icmpv6Packet(
      ICMPv6Header(type: .packetTooBig, code: 0, restOfHeader: 1300), body: Array(quoted[..<1232]),
      source: LinuxCaptures.globalR, destination: LinuxCaptures.globalA, hopLimit: 64)
    guard case .error(let report) = layer.receive(tooBig, at: at(6)) else {
      Issue.record("no report for the transport")
      return
    }
    #expect(report.type == .packetTooBig && report.mtu == 1300)
    #expect(report.quotedNextHeader == .udp && report.quotedDestination == far)
    #expect(Array(report.quotedTransportHeader.prefix(4)) == [0x9c, 0x41, 0, 9])
    // Not up again, and not below 1280.
    #expect(layer.pathMTU(to: far) == 1280)
    let tiny = icmpv6Packet(
      ICMPv6Header(type: .packetTooBig, code: 0, restOfHeader: 1000), body: Array(quoted[..<1232]),
      source: LinuxCaptures.globalR, destination: LinuxCaptures.globalA, hopLimit: 64)
    _ = layer.receive(tiny, at: at(7))
    #expect(layer.icmpCounters.droppedPacketTooBigBelowMinimum == 1)
    // A packet too big about someone else's packet is refused.
    var notOurs = quoted
    notOurs[23] = 0x77
    let forged = icmpv6Packet(
      ICMPv6Header(type: .packetTooBig, code: 0, restOfHeader: 1280), body: Array(notOurs[..<1232]),
      source: LinuxCaptures.globalR, destination: LinuxCaptures.globalA, hopLimit: 64)
    _ = layer.receive(forged, at: at(8))
    #expect(layer.icmpCounters.droppedUnmatchedErrors == 1)
    // Ten minutes later the link MTU is tried again.
    layer.poll(now: at(5 + 600))
    #expect(layer.pathMTU(to: far) == 1500)
  }

  @Test func pathMTUEvictionsAreCounted() {
    var configuration = quietConfiguration
    configuration.pathMTU.capacity = 1
    var layer = makeLayer(
      addresses: [globalA], configuration: configuration, hardwareAddress: LinuxCaptures.macA)
    let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
    let other = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 4)
    _ = layer.receive(LinuxCaptures.packetTooBig, at: at(5))
    #expect(layer.pathMTU(to: far) == 1280)
    #expect(layer.icmpCounters.pathMTUEvictions == 0)
    // A second destination takes the only entry: the first is forgotten, and counted.
    let quoted = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: other, nextHeader: .udp, payloadLength: 0),
      payload: [0x9c, 0x41, 0, 9, 0, 16, 0, 0] + [UInt8](repeating: 7, count: 1352))
    let tooBig = icmpv6Packet(
      ICMPv6Header(type: .packetTooBig, code: 0, restOfHeader: 1300), body: Array(quoted[..<1232]),
      source: LinuxCaptures.globalR, destination: LinuxCaptures.globalA, hopLimit: 64)
    _ = layer.receive(tooBig, at: at(6))
    #expect(layer.pathMTU(to: other) == 1300)
    #expect(layer.pathMTU(to: far) == 1500)
    #expect(layer.icmpCounters.pathMTUEvictions == 1)
  }

  @Test func sendsFragmentsToThePathMTU() throws {
    var layer = makeLayer(addresses: [globalA], hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    _ = layer.receive(LinuxCaptures.packetTooBig, at: at(5))
    _ = layer.takeSent()
    let far = IPv6Address(0xfd00, 0x78, 0, 0, 0, 0, 0, 3)
    try layer.send(udp(3000), nextHeader: .udp, to: far, options: .init(), now: at(6))
    let sent = layer.takeSent()
    #expect(sent.count == 3 && sent.allSatisfy { $0.bytes.count <= 1280 })
    #expect(throws: IPv6SendError.tooLarge) {
      try layer.send(
        udp(3000), nextHeader: .udp, to: far, options: .init(dontFragment: true), now: at(6))
    }
  }

  // MARK: MLD

  @Test func reportsGroupsAndAnswersQueries() {
    var link = RecordingLink()
    link.hardwareAddress = LinuxCaptures.macA
    var layer = IPv6Layer(
      link: link, configuration: quietConfiguration, secretKey: testSecretKey, randomSeed: 3)
    layer.start(now: .zero)
    #expect(layer.nextDeadline == .zero)
    layer.poll(now: .zero)
    let first = layer.takeSent()
    // At once: the join report of the link-local address's group, from ::, hop limit 1,
    // with a router alert.
    #expect(icmpTypes(first) == [.multicastListenerReportV2])
    let report = first[0]
    #expect(report.destination == MACAddress(multicast: .allMLDv2Routers))
    let fixed = header(of: report.bytes)
    #expect(
      fixed.source == .unspecified && fixed.hopLimit == 1 && fixed.nextHeader == .hopByHopOptions)
    #expect(Array(report.bytes[40..<48]) == Array(LinuxCaptures.reportFromUnspecified[40..<48]))
    guard let linkLocal = layer.addresses.first?.address else { return }
    #expect(IPv6Address(report.bytes.span, at: 60) == linkLocal.solicitedNodeMulticast)
    #expect(layer.link.groups.contains(linkLocal.solicitedNodeMulticast))
    #expect(layer.link.groups.contains(.allNodes))
    var now = Instant.zero
    while now < at(3) {
      now += .milliseconds(100)
      layer.poll(now: now)
    }
    _ = layer.takeSent()
    // The captured general query: one report within its second, from the link-local address.
    _ = layer.receive(LinuxCaptures.mldQuery, multicast: true, at: at(4))
    var answer: [SentFrame] = []
    while now < at(5) {
      now += .milliseconds(50)
      layer.poll(now: now)
      answer += layer.takeSent()
    }
    #expect(icmpTypes(answer) == [.multicastListenerReportV2])
    #expect(header(of: answer[0].bytes).source == linkLocal)
    #expect(layer.icmpCounters.mldQueriesReceived == 1)
  }

  @Test func groupsTheLinkOrTheListenerCannotHoldAreCounted() throws {
    // The link's filter holds all-nodes and the link-local address's group, no more.
    var link = RecordingLink()
    link.groupLimit = 2
    var layer = IPv6Layer(
      link: link, configuration: quietConfiguration, secretKey: testSecretKey, randomSeed: 3)
    layer.start(now: .zero)
    #expect(layer.icmpCounters.mldGroupsRefused == 0)
    try layer.addAddress(globalB, now: .zero)
    #expect(!layer.link.groups.contains(LinuxCaptures.globalB.solicitedNodeMulticast))
    #expect(layer.icmpCounters.mldGroupsRefused == 1)
    // The listener's table holds one group: the link-local address's.
    var configuration = quietConfiguration
    configuration.multicast.maximumGroups = 1
    var small = IPv6Layer(
      link: RecordingLink(), configuration: configuration, secretKey: testSecretKey,
      randomSeed: 3)
    small.start(now: .zero)
    try small.addAddress(globalB, now: .zero)
    #expect(!small.multicast.isListening(to: LinuxCaptures.globalB.solicitedNodeMulticast))
    #expect(small.icmpCounters.mldGroupsRefused == 1)
    // A link that takes no group: all-nodes and the link-local address's group are refused.
    var deaf = RecordingLink()
    deaf.groupLimit = 0
    var unheard = IPv6Layer(
      link: deaf, configuration: quietConfiguration, secretKey: testSecretKey, randomSeed: 3)
    unheard.start(now: .zero)
    #expect(unheard.link.groups.isEmpty)
    #expect(unheard.icmpCounters.mldGroupsRefused == 2)
  }
}
