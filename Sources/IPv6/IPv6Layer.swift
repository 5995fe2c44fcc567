import NetCore

/// The IPv6 layer of one interface (RFC 8200, RFC 4443, RFC 4861, RFC 4862, RFC 3810): it
/// validates and accepts packets for us, walks their extension headers, reassembles fragments,
/// answers echo, sends ICMPv6 errors, resolves neighbours, takes in router advertisements,
/// configures and checks its addresses, reports its multicast groups, and chooses source and
/// next hop and fragments what it sends.
///
/// Sans-IO, as `IPv4Layer`: bytes and `now` go in through ``receive(_:linkMulticast:now:)``,
/// ``send(_:nextHeader:to:options:now:)`` and ``poll(now:)``; packets go out through the link
/// (``IPv6Link``), which it owns; ``nextDeadline`` says when to poll again. Transports are
/// separate values: a ``IPv6Input`` tells the caller which packet to hand to which.
///
/// Life: ``start(now:)`` forms the link-local address and starts router solicitation;
/// ``addAddress(_:now:)`` adds configured addresses, ``setGateway(_:now:)`` a default router.
/// Every address goes through duplicate address detection before it is used.
public struct IPv6Layer<Link: IPv6Link> {
  /// Limits, timers and choices; the defaults are RFC 4861 §10's constants and Linux's.
  public struct Configuration: Sendable {
    public var extensionHeaders = IPv6ExtensionHeaderWalker.Limits()
    public var reassembly = IPv6Reassembler.Configuration()
    public var neighbourCache = NeighbourCache.Configuration()
    public var addresses = IPv6AddressTable.Configuration()
    public var multicast = MulticastListener.Configuration()
    public var pathMTU = IPv6PathMTUCache.Configuration()
    /// The most default routers kept.
    public var maximumRouters = 8
    /// The most on-link prefixes kept.
    public var maximumPrefixes = 16
    /// The most advertised DNS servers kept.
    public var maximumDNSServers = 8
    /// The most redirected destinations kept.
    public var maximumRedirects = 64
    /// Take in router advertisements: default routers, on-link prefixes, MTU, hop limit,
    /// timers, DNS servers (Linux's `accept_ra`).
    public var acceptsRouterAdvertisements = true
    /// Form addresses from advertised prefixes (RFC 4862 §5.5.3; Linux's `autoconf`).
    public var autoconfiguresAddresses = true
    /// Router solicitations sent at start (MAX_RTR_SOLICITATIONS, RFC 4861 §10); 0 for none.
    public var routerSolicitations = 3
    /// RTR_SOLICITATION_INTERVAL.
    public var routerSolicitationInterval = Interval.seconds(4)
    /// MAX_RTR_SOLICITATION_DELAY: the first solicitation waits a random time up to this.
    public var maximumRouterSolicitationDelay = Interval.seconds(1)
    /// BaseReachableTime until a router advertises another (REACHABLE_TIME).
    public var baseReachableTime = Interval.seconds(30)
    /// RetransTimer until a router advertises another (RETRANS_TIMER).
    public var retransmitTimer = Interval.seconds(1)
    /// The longest RetransTimer a router may set (RFC 7048 §4's MAX_RETRANS_TIMER): a longer
    /// advertised one is cut to this, so that resolution (and the packets it holds) and
    /// duplicate address detection end within minutes, not days.
    public var maximumRetransmitTimer = Interval.seconds(60)
    /// Answer echo requests sent to a multicast group (RFC 4443 §4.2: SHOULD; Linux does).
    public var answersMulticastEcho = true
    /// Upper layers delivered to the caller; any other is answered with parameter problem
    /// code 1 (RFC 8200 §4).
    public var deliveredProtocols: [IPv6NextHeader] = [.tcp, .udp]
    /// Echo replies kept for the caller (``IPv6Layer/echoReplies``).
    public var echoReplyQueueLimit = 256

    public init() {}
  }

  /// The link below.
  public var link: Link
  public let configuration: Configuration

  /// The interface's addresses.
  public internal(set) var addressTable: IPv6AddressTable
  public internal(set) var neighbourCache: NeighbourCache
  public internal(set) var routers: IPv6RouterList
  public internal(set) var prefixes: IPv6PrefixList
  public internal(set) var dnsServers: IPv6DNSServerList
  public internal(set) var redirects: IPv6RedirectTable
  public internal(set) var pathMTUs: IPv6PathMTUCache
  public internal(set) var multicast: MulticastListener
  var reassembler: IPv6Reassembler
  let walker: IPv6ExtensionHeaderWalker
  var errorLimiter: ICMPv6ErrorRateLimiter
  var random: PseudoRandomGenerator

  /// The link MTU for IPv6: the link's, or lower when a router advertised less (RFC 4861
  /// §6.3.4).
  public internal(set) var mtu: Int
  /// The hop limit of packets we originate (CurHopLimit: 64, or what a router advertised).
  public internal(set) var hopLimit: UInt8 = IPv6Header.defaultHopLimit
  /// BaseReachableTime (RFC 4861 §6.3.2); the neighbour cache uses a random value around it.
  public internal(set) var baseReachableTime: Interval
  /// The configured default router (`setGateway`), if any.
  public internal(set) var gateway: IPv6Address?

  public internal(set) var counters = IPv6Counters()
  public internal(set) var icmpCounters = ICMPv6Counters()
  public internal(set) var ndpCounters = NDPCounters()

  /// Echo replies received for requests this stack sent
  /// (``sendEchoRequest(to:identifier:sequence:payload:now:)``).
  public var echoReplies: BoundedQueue<ICMPv6EchoReply>

  /// Router solicitations still to send, and when the next is due.
  var routerSolicitationsLeft = 0
  var nextRouterSolicitation: Instant?
  /// Whether a solicitation waits for the link-local address to finish detection (RFC 4862
  /// §5.4: no tentative address as a source).
  var routerSolicitationWaitsForLinkLocal = false
  /// Whether ``start(now:)`` has run.
  public internal(set) var isStarted = false
  /// Whether packets to a global unicast address that is not ours (routed to us as the guests'
  /// gateway) are delivered too, marked ``IPv6Delivery/isRelayed``, ICMPv6 included, for a
  /// relay to re-originate (RFC 8200 §3, a router's forwarding; see `IPv6Layer+Relay.swift`).
  /// Off by default.
  public var relaysOtherDestinations = false
  /// Addresses not ours whose neighbour solicitations the layer answers with its own
  /// link-layer address, as a proxy (RFC 4861 §7.2.8; see `IPv6Layer+Proxy.swift`).
  public internal(set) var proxiedAddresses: [IPv6Address] = []
  /// The advertising interface, once ``startAdvertising(_:now:)`` has made the interface a
  /// router's (RFC 4861 §6.2).
  public internal(set) var advertiser: RouterAdvertiser?

  /// A layer over `link`. `secretKey` keys the stable interface identifiers (RFC 7217: random,
  /// and kept across restarts for stable addresses); `randomSeed` seeds the delays, nonces and
  /// fragment identifications (the runtime passes entropy).
  public init(
    link: Link, configuration: Configuration = Configuration(), secretKey: (UInt64, UInt64),
    randomSeed: UInt64, errorRateLimiter: ICMPv6ErrorRateLimiter = ICMPv6ErrorRateLimiter(),
    budget: MemoryBudget = MemoryBudget()
  ) {
    precondition(link.mtu >= IPv6Header.minimumMTU, "IPv6 needs a link MTU of at least 1280")
    self.link = link
    self.configuration = configuration
    addressTable = IPv6AddressTable(
      identifiers: StableInterfaceIdentifier(secretKey: secretKey, interface: link.hardwareAddress),
      configuration: configuration.addresses)
    neighbourCache = NeighbourCache(configuration: configuration.neighbourCache, budget: budget)
    routers = IPv6RouterList(capacity: configuration.maximumRouters)
    prefixes = IPv6PrefixList(capacity: configuration.maximumPrefixes)
    dnsServers = IPv6DNSServerList(capacity: configuration.maximumDNSServers)
    redirects = IPv6RedirectTable(capacity: configuration.maximumRedirects)
    pathMTUs = IPv6PathMTUCache(configuration: configuration.pathMTU)
    multicast = MulticastListener(configuration: configuration.multicast)
    reassembler = IPv6Reassembler(configuration: configuration.reassembly, budget: budget)
    walker = IPv6ExtensionHeaderWalker(limits: configuration.extensionHeaders)
    errorLimiter = errorRateLimiter
    random = PseudoRandomGenerator(seed: randomSeed)
    mtu = link.mtu
    baseReachableTime = configuration.baseReachableTime
    echoReplies = BoundedQueue(limit: configuration.echoReplyQueueLimit)
    neighbourCache.retransmitTimer = configuration.retransmitTimer
    addressTable.retransmitTimer = configuration.retransmitTimer
    neighbourCache.reachableTime = randomReachableTime()
  }

  // MARK: Configuration

  /// Brings the interface up: listens to all-nodes, forms the link-local address (and starts
  /// its detection), and schedules router solicitations (RFC 4861 §6.3.7).
  public mutating func start(now: Instant) {
    guard !isStarted else { return }
    isStarted = true
    if !link.joinMulticastGroup(.allNodes) { icmpCounters.mldGroupsRefused += 1 }
    apply(addressTable.addLinkLocal(now: now, random: &random), now: now)
    if configuration.routerSolicitations > 0 {
      routerSolicitationsLeft = configuration.routerSolicitations
      nextRouterSolicitation =
        now
        + MulticastListener.randomDelay(
          below: configuration.maximumRouterSolicitationDelay, &random)
    }
  }

  /// Adds a configured address (`--ip6 ADDR/PREFIX`); it is used once duplicate address
  /// detection passes. Its prefix becomes on-link (unless it is a /128).
  public mutating func addAddress(_ cidr: IPv6CIDR, now: Instant)
    throws(IPv6ConfigurationError)
  {
    guard cidr.address.isUnicast, !cidr.address.isIPv4Mapped else { throw .notUnicast }
    guard addressTable.entry(for: cidr.address) == nil else { throw .exists }
    guard let events = addressTable.addManual(cidr, now: now, random: &random) else {
      ndpCounters.addressesRefused += 1
      throw .full
    }
    if cidr.prefixLength < 128 && !cidr.address.isLinkLocal {
      if !prefixes.addConfigured(cidr) { ndpCounters.prefixesRefused += 1 }
    }
    apply(events, now: now)
  }

  /// Adds an address the stack answers at for a service of its own (the relay's DNS address,
  /// ``IPv6InterfaceAddress/Origin/service``): a /128 that goes through duplicate address
  /// detection and is answered for in neighbour discovery, and is never chosen as a source.
  public mutating func addServiceAddress(_ address: IPv6Address, now: Instant)
    throws(IPv6ConfigurationError)
  {
    guard address.isUnicast, !address.isIPv4Mapped, !address.isLinkLocal else {
      throw .notUnicast
    }
    guard addressTable.entry(for: address) == nil else { throw .exists }
    guard let events = addressTable.addService(address, now: now, random: &random) else {
      ndpCounters.addressesRefused += 1
      throw .full
    }
    apply(events, now: now)
  }

  /// Removes an address (configured or not) and, for a configured one, its on-link prefix.
  public mutating func removeAddress(_ address: IPv6Address, now: Instant) {
    guard let entry = addressTable.entry(for: address) else { return }
    if entry.origin == .manual && entry.prefixLength < 128 {
      let others = addressTable.addresses.contains {
        $0.address != address && $0.origin == .manual && $0.prefixLength == entry.prefixLength
          && $0.cidr.prefix == entry.cidr.prefix
      }
      if !others { prefixes.removeConfigured(entry.cidr) }
    }
    apply(addressTable.remove(address), now: now)
  }

  /// Sets (or, with nil, removes) the configured default router (`--gateway6`): a neighbour,
  /// usually its link-local address, that never expires.
  public mutating func setGateway(_ address: IPv6Address?, now: Instant) {
    if let gateway { routers.remove(gateway) }
    gateway = address
    if let address, !routers.addConfigured(address) { ndpCounters.routersRefused += 1 }
  }

  /// An upper layer's sign that `destination` is reachable (TCP's acknowledged data, RFC 4861
  /// §7.3.1): its next hop's neighbour entry becomes REACHABLE without probing.
  public mutating func confirmReachability(of destination: IPv6Address, now: Instant) {
    if let nextHop = redirects.nextHop(for: destination) {
      neighbourCache.confirmReachability(nextHop, now: now)
    } else if destination.isLinkLocal || prefixes.isOnLink(destination) {
      neighbourCache.confirmReachability(destination, now: now)
    } else if let router = routers.routers.first(where: {
      neighbourCache.entry(for: $0.address)?.state.linkLayerAddress != nil
    }) {
      neighbourCache.confirmReachability(router.address, now: now)
    }
  }

  // MARK: Status

  /// The interface's addresses with their states.
  public var addresses: [IPv6InterfaceAddress] { addressTable.addresses }

  /// Bytes held by packets being reassembled.
  public var reassemblyBytesHeld: Int { reassembler.bytesHeld }

  /// ReachableTime: a uniformly random value between 0.5 and 1.5 times BaseReachableTime
  /// (RFC 4861 §6.3.2).
  mutating func randomReachableTime() -> Interval {
    let factor = Int64(500 + random.next(below: 1001))
    return Interval(nanoseconds: baseReachableTime.nanoseconds / 1000 * factor)
  }
}
