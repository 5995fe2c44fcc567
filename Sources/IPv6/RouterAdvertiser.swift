import NetCore

/// A router's advertising interface (RFC 4861 §6.2): what its router advertisements say and
/// when each is due.
///
/// - Unsolicited advertisements (§6.2.4) go to all nodes at random intervals between
///   ``Configuration/minimumInterval`` (MinRtrAdvInterval) and
///   ``Configuration/maximumInterval`` (MaxRtrAdvInterval); the first goes at once, and of
///   the first ``Configuration/initialAdvertisements`` (MAX_INITIAL_RTR_ADVERTISEMENTS) none
///   waits longer than ``Configuration/maximumInitialInterval``
///   (MAX_INITIAL_RTR_ADVERT_INTERVAL).
/// - A router solicitation (§6.2.6) is answered by an advertisement to all nodes after a
///   random delay below ``Configuration/maximumResponseDelay`` (MAX_RA_DELAY_TIME), and never
///   sooner than ``Configuration/minimumDelayBetweenAdvertisements`` (MIN_DELAY_BETWEEN_RAS)
///   after the previous one. A solicitation that arrives while an advertisement is already
///   scheduled within that time shares it: however many solicitations arrive, at most one
///   advertisement goes out per MIN_DELAY_BETWEEN_RAS, and each solicitation is counted once:
///   answered (by an advertisement scheduled for it, or by the unsolicited one due sooner,
///   which becomes its answer) or rate-limited (it shares the answer of an earlier one). So
///   the solicitations answered are the solicited advertisements sent, plus one due.
/// - When the interface stops advertising (§6.2.5: the daemon stops), ``cease(canSend:)`` gives the
///   final advertisements, ``Configuration/finalAdvertisements`` of them
///   (MAX_FINAL_RTR_ADVERTISEMENTS), with a router lifetime of 0 so that hosts drop it as
///   their default router at once, and the DNS servers with a lifetime of 0 (RFC 8106 §5.1: no
///   longer to be used), since their answers stop too; nothing is scheduled after them.
///
/// Sans-IO: the caller passes `now` and the random source; ``poll(now:random:)`` says whether
/// an advertisement is due, ``advertisement(sourceLinkLayerAddress:)`` builds it.
public struct RouterAdvertiser: Sendable {
  /// What the advertisements say and the timers (RFC 4861 §6.2.1 and §10's defaults).
  public struct Configuration: Sendable, Equatable {
    /// MinRtrAdvInterval: at least 3 s, at most 0.75 × MaxRtrAdvInterval (default 0.33 × it).
    public var minimumInterval = Interval.seconds(198)
    /// MaxRtrAdvInterval: 4 s to 1800 s.
    public var maximumInterval = Interval.seconds(600)
    /// MAX_INITIAL_RTR_ADVERTISEMENTS.
    public var initialAdvertisements = 3
    /// MAX_INITIAL_RTR_ADVERT_INTERVAL.
    public var maximumInitialInterval = Interval.seconds(16)
    /// MIN_DELAY_BETWEEN_RAS.
    public var minimumDelayBetweenAdvertisements = Interval.seconds(3)
    /// MAX_RA_DELAY_TIME.
    public var maximumResponseDelay = Interval.milliseconds(500)
    /// Final advertisements sent when advertising stops (MAX_FINAL_RTR_ADVERTISEMENTS, §6.2.5:
    /// one or more, at most 3).
    public var finalAdvertisements = 3
    /// AdvDefaultLifetime in seconds: 3 × MaxRtrAdvInterval.
    public var routerLifetime: UInt16 = 1800
    /// AdvCurHopLimit.
    public var currentHopLimit: UInt8 = IPv6Header.defaultHopLimit
    /// AdvLinkMTU: sent in an MTU option when set.
    public var mtu: UInt32?
    /// AdvPrefixList: the prefix information options (at most ``maximumPrefixes``).
    public var prefixes: [NDPPrefixInformation] = []
    /// The recursive DNS servers (RFC 8106 §5.1; at most ``maximumDNSServers``), in one
    /// option when there are any.
    public var dnsServers: [IPv6Address] = []
    /// The DNS servers' lifetime in seconds: 3 × MaxRtrAdvInterval (RFC 8106 §5.1: at least
    /// that, so that two lost advertisements do not end it).
    public var dnsLifetime: UInt32 = 1800

    /// The most prefixes and DNS servers one advertisement carries.
    public static let maximumPrefixes = 8
    public static let maximumDNSServers = 3
    /// AdvValidLifetime and AdvPreferredLifetime (RFC 4861 §6.2.1): 30 and 7 days.
    public static let validLifetime: UInt32 = 2_592_000
    public static let preferredLifetime: UInt32 = 604_800

    public init() {}

    /// Advertises `prefix` on-link and for autoconfiguration (RFC 4861 §4.6.2's L and A
    /// flags, §6.2.1's lifetimes), `dnsServers` and `mtu`, with the default timers.
    public init(prefix: IPv6CIDR, dnsServers: [IPv6Address], mtu: Int?) {
      prefixes = [
        NDPPrefixInformation(
          prefix: prefix.prefix, prefixLength: prefix.prefixLength, onLink: true,
          autonomous: true, validLifetime: Configuration.validLifetime,
          preferredLifetime: Configuration.preferredLifetime)
      ]
      self.dnsServers = dnsServers
      self.mtu = mtu.map { UInt32($0) }
    }
  }

  public let configuration: Configuration
  /// When the next unsolicited advertisement is due (nil until ``start(now:)``).
  public private(set) var nextUnsolicited: Instant?
  /// When the advertisement that answers solicitations is due, if one is scheduled.
  public private(set) var nextAnswer: Instant?
  /// When the last advertisement went out.
  public private(set) var lastSent: Instant?
  /// Initial advertisements still to send with the shorter interval.
  private var initialLeft: Int
  /// Whether ``cease(canSend:)`` has run: nothing more is scheduled or answered.
  public private(set) var hasCeased = false
  public internal(set) var counters = RouterAdvertiserCounters()

  public init(configuration: Configuration) {
    precondition(
      configuration.minimumInterval >= .seconds(3)
        && configuration.minimumInterval <= configuration.maximumInterval
        && configuration.prefixes.count <= Configuration.maximumPrefixes
        && configuration.dnsServers.count <= Configuration.maximumDNSServers
        && (1...3).contains(configuration.finalAdvertisements),
      "a router advertiser needs MinRtrAdvInterval of 3 s or more, up to MaxRtrAdvInterval")
    self.configuration = configuration
    initialLeft = configuration.initialAdvertisements
  }

  /// Becomes an advertising interface (§6.2.2): the first advertisement is due at once.
  public mutating func start(now: Instant) {
    if nextUnsolicited == nil { nextUnsolicited = now }
  }

  /// A valid router solicitation arrived (§6.2.6). Returns true when an advertisement answers
  /// it of its own (one scheduled for it, or the unsolicited one due sooner, which then counts
  /// as its answer), false when it shares the answer of an earlier one (rate-limited) or
  /// advertising has ceased.
  @discardableResult
  public mutating func receiveSolicitation(now: Instant, random: inout PseudoRandomGenerator)
    -> Bool
  {
    guard !hasCeased else { return false }
    counters.solicitationsReceived += 1
    guard nextAnswer == nil else {
      // An answer is scheduled already: it goes to all nodes, and answers this one too.
      counters.solicitationsRateLimited += 1
      return false
    }
    var due =
      now + MulticastListener.randomDelay(below: configuration.maximumResponseDelay, &random)
    if let lastSent { due = max(due, lastSent + configuration.minimumDelayBetweenAdvertisements) }
    if let unsolicited = nextUnsolicited, unsolicited <= due {
      // The unsolicited advertisement due first answers it, no later than its own would:
      // it becomes this solicitation's answer, which later ones share.
      nextAnswer = unsolicited
      counters.solicitationsAnswered += 1
      return true
    }
    nextAnswer = due
    counters.solicitationsAnswered += 1
    return true
  }

  /// When ``poll(now:random:)`` is next needed.
  public var nextDeadline: Instant? { Instant.earliest(nextUnsolicited, nextAnswer) }

  /// Whether an advertisement is due at `now`; if so it counts as sent, and the next
  /// unsolicited one is scheduled (§6.2.4).
  public mutating func poll(now: Instant, random: inout PseudoRandomGenerator) -> Bool {
    guard let due = nextDeadline, due <= now else { return false }
    if let answer = nextAnswer, answer <= now {
      nextAnswer = nil
      counters.solicitedAdvertisementsSent += 1
    }
    counters.advertisementsSent += 1
    lastSent = now
    var interval =
      configuration.minimumInterval
      + MulticastListener.randomDelay(
        below: configuration.maximumInterval - configuration.minimumInterval + .nanoseconds(1),
        &random)
    if initialLeft > 0 {
      initialLeft -= 1
      interval = min(interval, configuration.maximumInitialInterval)
    }
    nextUnsolicited = now + interval
    return true
  }

  /// Stops advertising (§6.2.5): nothing more is scheduled, solicitations are no longer
  /// answered. Returns how many final advertisements (``finalAdvertisement(sourceLinkLayerAddress:)``)
  /// to send now, counted as sent: ``Configuration/finalAdvertisements``, or none when no
  /// advertisement went out before (no host has us as its router), it had ceased already, or
  /// the caller `canSend` none (no usable link-local address to send them from).
  public mutating func cease(canSend: Bool = true) -> Int {
    guard !hasCeased else { return 0 }
    hasCeased = true
    nextUnsolicited = nil
    nextAnswer = nil
    guard canSend, counters.advertisementsSent > 0 else { return 0 }
    counters.finalAdvertisementsSent += UInt64(configuration.finalAdvertisements)
    return configuration.finalAdvertisements
  }

  /// The advertisement (§6.2.3): our hop limit and router lifetime, no M or O flag, reachable
  /// time and retransmission timer unspecified, and the options: our link-layer address, the
  /// MTU, the prefixes and the DNS servers.
  public func advertisement(sourceLinkLayerAddress: MACAddress) -> RouterAdvertisementMessage {
    advertisement(
      sourceLinkLayerAddress: sourceLinkLayerAddress,
      routerLifetime: configuration.routerLifetime, dnsLifetime: configuration.dnsLifetime)
  }

  /// A final advertisement (§6.2.5): the same, with a router lifetime of 0 and the DNS
  /// servers' lifetime 0 (RFC 8106 §5.1); the prefixes keep theirs (the guests' addresses stay
  /// valid, as radvd leaves them).
  public func finalAdvertisement(sourceLinkLayerAddress: MACAddress)
    -> RouterAdvertisementMessage
  {
    advertisement(sourceLinkLayerAddress: sourceLinkLayerAddress, routerLifetime: 0, dnsLifetime: 0)
  }

  private func advertisement(
    sourceLinkLayerAddress: MACAddress, routerLifetime: UInt16, dnsLifetime: UInt32
  ) -> RouterAdvertisementMessage {
    let servers: [NDPRecursiveDNSServers] =
      configuration.dnsServers.isEmpty
      ? []
      : [NDPRecursiveDNSServers(lifetime: dnsLifetime, servers: configuration.dnsServers)]
    return RouterAdvertisementMessage(
      currentHopLimit: configuration.currentHopLimit,
      routerLifetime: routerLifetime,
      options: NDPOptions(
        sourceLinkLayerAddress: sourceLinkLayerAddress, mtu: configuration.mtu,
        prefixes: configuration.prefixes, recursiveDNSServers: servers))
  }
}

extension RouterAdvertiser {
  /// Whether another router's `advertisement` agrees with ours (RFC 4861 §6.2.7): the same
  /// hop limit, M and O flags, reachable time and retransmission timer where both specify
  /// them, the same MTU, and the same lifetimes for a prefix we advertise too.
  public func isConsistent(with advertisement: RouterAdvertisementMessage) -> Bool {
    let ours = self.advertisement(sourceLinkLayerAddress: .zero)
    func agrees<Value: Equatable>(_ theirs: Value, _ mine: Value, unspecified: Value) -> Bool {
      theirs == unspecified || mine == unspecified || theirs == mine
    }
    guard agrees(advertisement.currentHopLimit, ours.currentHopLimit, unspecified: 0),
      advertisement.managedAddressConfiguration == ours.managedAddressConfiguration,
      advertisement.otherConfiguration == ours.otherConfiguration,
      agrees(advertisement.reachableTime, ours.reachableTime, unspecified: 0),
      agrees(advertisement.retransmitTimer, ours.retransmitTimer, unspecified: 0)
    else { return false }
    if let theirs = advertisement.options.mtu, let mine = ours.options.mtu, theirs != mine {
      return false
    }
    for prefix in advertisement.options.prefixes {
      for mine in ours.options.prefixes
      where mine.prefix == prefix.prefix && mine.prefixLength == prefix.prefixLength {
        if mine.validLifetime != prefix.validLifetime
          || mine.preferredLifetime != prefix.preferredLifetime
        {
          return false
        }
      }
    }
    return true
  }
}
