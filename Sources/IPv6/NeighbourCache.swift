import NetCore

/// The neighbour cache: which link-layer address answers for which IPv6 address on the link,
/// with the reachability states of RFC 4861 §7.3.2 and the transitions of its Appendix C.
///
/// - `incomplete`: a multicast solicitation is out; packets for the address wait in the
///   entry's queue. Solicitations are repeated every retransmit timer up to
///   ``Configuration/maximumMulticastSolicitations``; then the entry is removed and
///   ``NeighbourCacheEvent/failed(_:queued:)`` hands back what waited, for ICMPv6 address
///   unreachable (§7.2.2).
/// - `reachable`: confirmed (a solicited advertisement, or an upper layer's hint) within
///   ``reachableTime``.
/// - `stale`: not confirmed lately, or learnt without confirmation; still used, and the first
///   use moves it to `delay`.
/// - `delay`: used while stale; if nothing confirms it within
///   ``Configuration/delayFirstProbeTime`` it moves to `probe`.
/// - `probe`: unicast solicitations every retransmit timer, up to
///   ``Configuration/maximumUnicastSolicitations``, then the entry is removed.
///
/// Bounds: ``Configuration/capacity`` entries (a new one evicts the least recently used entry,
/// resolved ones first); queued packets per entry and in all (``Configuration/queuedPerEntry``,
/// ``Configuration/queuedTotal``), each charged to the memory budget
/// (`MemoryBudget/Use/neighbourQueues`) while it waits. Stale entries unused for
/// ``Configuration/staleLifetime`` are forgotten. The cache is a state machine: it sends
/// nothing itself; its answers and ``poll(now:)`` say what to send.
public struct NeighbourCache {
  /// Limits and the constants of RFC 4861 §10.
  public struct Configuration: Sendable {
    /// The most entries held.
    public var capacity = 256
    /// MAX_MULTICAST_SOLICIT.
    public var maximumMulticastSolicitations = 3
    /// MAX_UNICAST_SOLICIT.
    public var maximumUnicastSolicitations = 3
    /// DELAY_FIRST_PROBE_TIME.
    public var delayFirstProbeTime = Interval.seconds(5)
    /// How long a stale, unused entry is kept (Linux's `gc_stale_time`).
    public var staleLifetime = Interval.seconds(60)
    /// Packets waiting for one address (as the ARP side's limit).
    public var queuedPerEntry = 64
    /// Packets waiting for all addresses together.
    public var queuedTotal = 256

    public init() {}
  }

  /// Where an entry is in its life (RFC 4861 §7.3.2).
  public enum State: Equatable, Sendable {
    case incomplete(solicitationsSent: Int, nextSolicitation: Instant)
    case reachable(MACAddress, until: Instant)
    case stale(MACAddress, since: Instant)
    case delay(MACAddress, until: Instant)
    case probe(MACAddress, probesSent: Int, nextProbe: Instant)

    /// The link-layer address, once known.
    public var linkLayerAddress: MACAddress? {
      switch self {
      case .incomplete: nil
      case .reachable(let mac, _), .stale(let mac, _), .delay(let mac, _), .probe(let mac, _, _):
        mac
      }
    }

    /// The state's name in reports: `INCOMPLETE`, `REACHABLE`, ...
    public var name: String {
      switch self {
      case .incomplete: "INCOMPLETE"
      case .reachable: "REACHABLE"
      case .stale: "STALE"
      case .delay: "DELAY"
      case .probe: "PROBE"
      }
    }
  }

  /// One neighbour.
  public struct Entry {
    public var address: IPv6Address
    public var state: State
    /// Whether the neighbour is a router (RFC 4861 §7.3.2 IsRouter).
    public var isRouter: Bool
    public var lastUsed: Instant
    /// Packets waiting for the address to resolve.
    var queue: [PacketBuffer] = []

    /// Packets waiting.
    public var queuedPackets: Int { queue.count }
  }

  public let configuration: Configuration
  /// How long a neighbour counts as reachable after a confirmation (ReachableTime: a random
  /// value around BaseReachableTime, which the layer draws).
  public var reachableTime = Interval.seconds(30)
  /// Time between solicitations (RetransTimer).
  public var retransmitTimer = Interval.seconds(1)

  private var table: NeighbourTable<Entry>
  /// The entries, in a stable order (so that timers fire deterministically).
  public var entries: [Entry] { table.entries }
  /// Packets waiting in all entries.
  public private(set) var queuedPackets = 0
  /// Entries evicted because the cache was full.
  public private(set) var evictions: UInt64 = 0
  /// Packets dropped because a queue was full or the budget had no room.
  public private(set) var queueOverflows: UInt64 = 0
  /// Packets dropped with an entry evicted while they waited.
  public private(set) var queuedDroppedByEviction: UInt64 = 0
  let budget: MemoryBudget

  public init(configuration: Configuration = Configuration(), budget: MemoryBudget = MemoryBudget())
  {
    precondition(
      configuration.capacity > 0 && configuration.queuedPerEntry > 0
        && configuration.queuedTotal > 0)
    self.configuration = configuration
    self.budget = budget
    table = NeighbourTable(capacity: configuration.capacity)
  }

  /// The entry for `address`, if any (not counted as a use).
  public func entry(for address: IPv6Address) -> Entry? {
    table.position(of: address).map { table[$0] }
  }

  /// What a waiting packet is charged.
  static func charge(_ packet: PacketBuffer) -> Int { packet.capacity + 64 }

  // MARK: Sending

  /// Finds the link-layer address to send `packet` to `address`, or queues the packet until
  /// it is known (RFC 4861 §7.2.2, §7.3.3).
  public mutating func resolve(_ address: IPv6Address, packet: PacketBuffer, now: Instant)
    -> NeighbourResolution
  {
    guard let position = table.position(of: address) else {
      insert(
        Entry(
          address: address,
          state: .incomplete(solicitationsSent: 1, nextSolicitation: now + retransmitTimer),
          isRouter: false, lastUsed: now))
      guard let position = table.position(of: address), enqueue(packet, at: position) else {
        return .dropped
      }
      return .queued(solicit: true)
    }
    table[position].lastUsed = now
    switch table[position].state {
    case .incomplete:
      return enqueue(packet, at: position) ? .queued(solicit: false) : .dropped
    case .reachable(let mac, let until) where now < until:
      return .send(mac)
    case .reachable(let mac, _), .stale(let mac, _):
      // First use of a stale entry: wait a little for an upper layer's confirmation before
      // probing (§7.3.3).
      table[position].state = .delay(mac, until: now + configuration.delayFirstProbeTime)
      return .send(mac)
    case .delay(let mac, _), .probe(let mac, _, _):
      return .send(mac)
    }
  }

  private mutating func enqueue(_ packet: PacketBuffer, at position: Int) -> Bool {
    guard table[position].queue.count < configuration.queuedPerEntry,
      queuedPackets < configuration.queuedTotal,
      budget.reserve(NeighbourCache.charge(packet), for: .neighbourQueues)
    else {
      queueOverflows += 1
      return false
    }
    table[position].queue.append(packet)
    queuedPackets += 1
    return true
  }

  /// Takes the packets queued at `position`, giving back their charge.
  private mutating func takeQueue(at position: Int) -> [PacketBuffer] {
    let queue = table[position].queue
    table[position].queue = []
    queuedPackets -= queue.count
    for packet in queue { budget.release(NeighbourCache.charge(packet), for: .neighbourQueues) }
    return queue
  }

  // MARK: Receiving

  /// Records a link-layer address that a message announces without confirming reachability:
  /// the source link-layer address of a neighbour solicitation or router advertisement, the
  /// target link-layer address of a redirect (Appendix C, RFC 4861 §7.2.3, §6.3.4, §8.3).
  /// A new entry is STALE; a changed address makes an entry STALE; the same address leaves it
  /// as it is. `isRouter`, when given, sets the entry's flag. Returns the packets that were
  /// waiting for the address, now to be sent to `linkLayerAddress`.
  public mutating func learn(
    _ address: IPv6Address, linkLayerAddress mac: MACAddress, isRouter: Bool?, now: Instant
  ) -> [PacketBuffer] {
    guard let position = table.position(of: address) else {
      insert(
        Entry(
          address: address, state: .stale(mac, since: now), isRouter: isRouter ?? false,
          lastUsed: now))
      return []
    }
    if let isRouter { table[position].isRouter = isRouter }
    switch table[position].state {
    case .incomplete:
      table[position].state = .stale(mac, since: now)
      return takeQueue(at: position)
    default:
      if table[position].state.linkLayerAddress != mac {
        table[position].state = .stale(mac, since: now)
      }
      return []
    }
  }

  /// Applies a neighbour advertisement for `target` (RFC 4861 §7.2.5). Advertisements for
  /// addresses without an entry are ignored.
  public mutating func receiveAdvertisement(
    _ target: IPv6Address, linkLayerAddress: MACAddress?, solicited: Bool, override: Bool,
    router: Bool, now: Instant
  ) -> NeighbourAdvertisementOutcome {
    var outcome = NeighbourAdvertisementOutcome()
    guard let position = table.position(of: target) else { return outcome }
    let state = table[position].state
    guard let cached = state.linkLayerAddress else {
      // INCOMPLETE: an advertisement without the address resolves nothing.
      guard let linkLayerAddress else { return outcome }
      table[position].state =
        solicited
        ? .reachable(linkLayerAddress, until: now + reachableTime)
        : .stale(linkLayerAddress, since: now)
      table[position].isRouter = router
      outcome.linkLayerAddress = linkLayerAddress
      outcome.released = takeQueue(at: position)
      return outcome
    }
    let differs = linkLayerAddress != nil && linkLayerAddress != cached
    if !override && differs {
      // Another address without the override flag: keep ours, but doubt it.
      if case .reachable = state { table[position].state = .stale(cached, since: now) }
      return outcome
    }
    let mac = linkLayerAddress ?? cached
    if solicited {
      table[position].state = .reachable(mac, until: now + reachableTime)
    } else if differs {
      table[position].state = .stale(mac, since: now)
    }
    if table[position].isRouter && !router { outcome.routerFlagCleared = true }
    table[position].isRouter = router
    return outcome
  }

  /// Sets the IsRouter flag of `address`'s entry, if there is one (RFC 4861 §6.3.4: an
  /// advertisement without a source link-layer address still marks its sender a router).
  public mutating func markRouter(_ address: IPv6Address) {
    guard let position = table.position(of: address) else { return }
    table[position].isRouter = true
  }

  /// An upper layer's confirmation that `address` is reachable (forward progress, RFC 4861
  /// §7.3.1): a known entry becomes REACHABLE.
  public mutating func confirmReachability(_ address: IPv6Address, now: Instant) {
    guard let position = table.position(of: address),
      let mac = table[position].state.linkLayerAddress
    else { return }
    table[position].state = .reachable(mac, until: now + reachableTime)
  }

  /// Forgets `address`; returns the packets that were waiting for it.
  @discardableResult
  public mutating func remove(_ address: IPv6Address) -> [PacketBuffer] {
    guard let position = table.position(of: address) else { return [] }
    let queue = takeQueue(at: position)
    table.remove(at: position)
    return queue
  }

  // MARK: Timers

  /// Runs the timers: retransmits solicitations, moves DELAY to PROBE, ages entries, gives up
  /// on addresses.
  public mutating func poll(now: Instant) -> [NeighbourCacheEvent] {
    var events: [NeighbourCacheEvent] = []
    var position = 0
    while position < table.count {
      let entry = table[position]
      switch entry.state {
      case .incomplete(let sent, let next) where next <= now:
        if sent >= configuration.maximumMulticastSolicitations {
          events.append(.failed(entry.address, queued: takeQueue(at: position)))
          table.remove(at: position)
          continue
        }
        table[position].state = .incomplete(
          solicitationsSent: sent + 1, nextSolicitation: now + retransmitTimer)
        events.append(.solicit(entry.address, unicast: nil))
      case .reachable(let mac, let until) where until <= now:
        table[position].state = .stale(mac, since: until)
      case .stale(_, let since)
      where now - since >= configuration.staleLifetime
        && now - entry.lastUsed >= configuration.staleLifetime:
        table.remove(at: position)
        continue
      case .delay(let mac, let until) where until <= now:
        table[position].state = .probe(mac, probesSent: 1, nextProbe: now + retransmitTimer)
        events.append(.solicit(entry.address, unicast: mac))
      case .probe(let mac, let sent, let next) where next <= now:
        if sent >= configuration.maximumUnicastSolicitations {
          table.remove(at: position)
          continue
        }
        table[position].state = .probe(
          mac, probesSent: sent + 1, nextProbe: now + retransmitTimer)
        events.append(.solicit(entry.address, unicast: mac))
      default:
        break
      }
      position += 1
    }
    return events
  }

  /// When a solicitation or probe is next due (aging needs no prompt wake-up).
  public var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for entry in entries {
      switch entry.state {
      case .incomplete(_, let next), .probe(_, _, let next), .delay(_, let next):
        earliest = Instant.earliest(earliest, next)
      case .reachable, .stale:
        break
      }
    }
    return earliest
  }

  // MARK: Table

  /// Adds an entry, first evicting the least recently used one (resolved ones first) if the
  /// cache is full; what waited in the evicted entry is dropped and counted.
  private mutating func insert(_ entry: Entry) {
    if table.isFull, let victim = table.leastRecentlyUsedPosition() {
      evictions += 1
      queuedDroppedByEviction += UInt64(takeQueue(at: victim).count)
      table.remove(at: victim)
    }
    table.append(entry)
  }
}

extension NeighbourCache.Entry: NeighbourTableEntry {
  public var isResolved: Bool { state.linkLayerAddress != nil }
}

/// The answer of ``NeighbourCache/resolve(_:packet:now:)``.
public enum NeighbourResolution: Equatable, Sendable {
  /// Send the packet to this link-layer address now.
  case send(MACAddress)
  /// The packet waits in the entry's queue; when `solicit`, send a multicast solicitation now
  /// (the entry is new).
  case queued(solicit: Bool)
  /// The packet was dropped: its queue was full or the budget had no room.
  case dropped
}

/// What a neighbour advertisement changed in the cache (RFC 4861 §7.2.5).
public struct NeighbourAdvertisementOutcome {
  /// Packets that waited for the address, to be sent to ``linkLayerAddress`` now.
  public var released: [PacketBuffer] = []
  /// The address that resolved the entry, when it did.
  public var linkLayerAddress: MACAddress?
  /// The neighbour was a router and says it is no longer one: take it off the default
  /// router list (RFC 4861 §7.2.5).
  public var routerFlagCleared = false
}

/// Something ``NeighbourCache/poll(now:)`` asks the layer to do.
public enum NeighbourCacheEvent {
  /// Send a neighbour solicitation for the address: to its solicited-node group when
  /// `unicast` is nil, else to that link-layer address (a probe).
  case solicit(IPv6Address, unicast: MACAddress?)
  /// The address did not answer: what waited for it is handed back (for ICMPv6 address
  /// unreachable, RFC 4861 §7.2.2).
  case failed(IPv6Address, queued: [PacketBuffer])
}
