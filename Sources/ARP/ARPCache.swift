import NetCore

/// The neighbour cache: which MAC address answers for which IPv4 address on the link
/// (RFC 826), with bounded size, aging and re-validation (RFC 1122 §2.3.2.1).
///
/// Each entry moves through the states Linux's neighbour code uses, simplified:
///
/// - `incomplete`: a broadcast request is out; repeated every `retransmitInterval` up to
///   `maximumRequests` times, then the entry is removed and ``ARPCacheEvent/failed(_:)`` is
///   reported so that packets waiting for it are dropped.
/// - `reachable`: confirmed by a reply or request from the owner within `reachableTime`.
/// - `stale`: past `reachableTime`; still used, and the first use starts a re-validation.
/// - `probing`: unicast requests to the known MAC; a reply makes it reachable again,
///   silence after `maximumProbes` removes it.
///
/// Stale entries unused for `staleLifetime` are aged out. When the cache is full, the least
/// recently used entry that is not being resolved is evicted. The cache is a pure state
/// machine: it never sends anything itself; `lookup` and `poll` say what to send.
public struct ARPCache {
  /// Timers and limits; the defaults are Linux's.
  public struct Configuration: Sendable {
    /// The most entries held.
    public var capacity = 256
    /// How long a confirmed mapping is used without re-validation.
    public var reachableTime = Interval.seconds(30)
    /// How long a stale, unused mapping is kept.
    public var staleLifetime = Interval.seconds(60)
    /// Time between requests for one address.
    public var retransmitInterval = Interval.seconds(1)
    /// Broadcast requests before an address is declared unreachable.
    public var maximumRequests = 3
    /// Unicast probes before a stale mapping is dropped.
    public var maximumProbes = 3

    public init() {}
  }

  /// Where an entry is in its life.
  public enum State: Equatable, Sendable {
    case incomplete(requestsSent: Int, nextRequest: Instant)
    case reachable(MACAddress, until: Instant)
    case stale(MACAddress, since: Instant)
    case probing(MACAddress, probesSent: Int, nextProbe: Instant)

    /// The hardware address, once known.
    public var hardwareAddress: MACAddress? {
      switch self {
      case .incomplete: nil
      case .reachable(let mac, _), .stale(let mac, _), .probing(let mac, _, _): mac
      }
    }
  }

  /// One cached address.
  public struct Entry: Sendable {
    public var address: IPv4Address
    public var state: State
    public var lastUsed: Instant
  }

  public let configuration: Configuration
  private var table: NeighbourTable<Entry>
  /// The entries, in a stable order (so that timers fire deterministically).
  public var entries: [Entry] { table.entries }
  /// Entries evicted because the cache was full.
  public private(set) var evictions: UInt64 = 0

  public init(configuration: Configuration = Configuration()) {
    precondition(configuration.capacity > 0)
    self.configuration = configuration
    table = NeighbourTable(capacity: configuration.capacity)
  }

  /// The current entry for `address`, if any (does not count as a use).
  public func entry(for address: IPv4Address) -> Entry? {
    table.position(of: address).map { table[$0] }
  }

  /// Looks up the hardware address to send to `address`, starting resolution or re-validation
  /// as needed.
  public mutating func lookup(_ address: IPv4Address, now: Instant) -> ARPLookup {
    guard let position = table.position(of: address) else {
      insert(
        Entry(
          address: address,
          state: .incomplete(requestsSent: 1, nextRequest: now + configuration.retransmitInterval),
          lastUsed: now))
      return .startResolution
    }
    table[position].lastUsed = now
    switch table[position].state {
    case .incomplete:
      return .pending
    case .reachable(let mac, let until):
      if now < until { return .resolved(mac) }
      fallthrough
    case .stale:
      let mac = table[position].state.hardwareAddress!
      table[position].state = .probing(
        mac, probesSent: 1, nextProbe: now + configuration.retransmitInterval)
      return .resolvedProbe(mac)
    case .probing(let mac, _, _):
      return .resolved(mac)
    }
  }

  /// Records that `address` is at `hardwareAddress`, as a received ARP packet shows.
  ///
  /// Existing entries are always updated (RFC 826's merge); a new entry is made only when
  /// `create` is set (the packet was addressed to us). Returns true when the address was being
  /// resolved, so that packets waiting for it can now be sent.
  @discardableResult
  public mutating func update(
    _ address: IPv4Address, hardwareAddress: MACAddress, now: Instant, create: Bool
  ) -> Bool {
    let confirmed = State.reachable(hardwareAddress, until: now + configuration.reachableTime)
    if let position = table.position(of: address) {
      let wasIncomplete = table[position].state.hardwareAddress == nil
      table[position].state = confirmed
      return wasIncomplete
    }
    if create { insert(Entry(address: address, state: confirmed, lastUsed: now)) }
    return false
  }

  /// Forgets `address`.
  public mutating func remove(_ address: IPv4Address) {
    guard let position = table.position(of: address) else { return }
    table.remove(at: position)
  }

  /// Runs the timers: retransmits requests and probes, ages entries, gives up on addresses.
  public mutating func poll(now: Instant) -> [ARPCacheEvent] {
    var events: [ARPCacheEvent] = []
    var position = 0
    while position < table.count {
      let entry = table[position]
      switch entry.state {
      case .incomplete(let sent, let next) where next <= now:
        if sent >= configuration.maximumRequests {
          events.append(.failed(entry.address))
          table.remove(at: position)
          continue
        }
        table[position].state = .incomplete(
          requestsSent: sent + 1, nextRequest: now + configuration.retransmitInterval)
        events.append(.sendRequest(entry.address, to: nil))
      case .reachable(let mac, let until) where until <= now:
        table[position].state = .stale(mac, since: until)
      case .stale(_, let since) where now - since >= configuration.staleLifetime:
        table.remove(at: position)
        continue
      case .probing(let mac, let sent, let next) where next <= now:
        if sent >= configuration.maximumProbes {
          table.remove(at: position)
          continue
        }
        table[position].state = .probing(
          mac, probesSent: sent + 1, nextProbe: now + configuration.retransmitInterval)
        events.append(.sendRequest(entry.address, to: mac))
      default:
        break
      }
      position += 1
    }
    return events
  }

  /// When a request or probe is next due (aging needs no prompt wake-up).
  public var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for entry in entries {
      switch entry.state {
      case .incomplete(_, let next), .probing(_, _, let next):
        earliest = Instant.earliest(earliest, next)
      case .reachable, .stale:
        break
      }
    }
    return earliest
  }

  /// Adds an entry, first evicting the least recently used one if the cache is full.
  private mutating func insert(_ entry: Entry) {
    if table.isFull, let victim = table.leastRecentlyUsedPosition() {
      evictions += 1
      table.remove(at: victim)
    }
    table.append(entry)
  }
}

extension ARPCache.Entry: NeighbourTableEntry {
  public var isResolved: Bool { state.hardwareAddress != nil }
}

/// The answer of ``ARPCache/lookup(_:now:)``.
public enum ARPLookup: Equatable, Sendable {
  /// Send to this MAC.
  case resolved(MACAddress)
  /// Send to this MAC, and send it a unicast request to re-validate the mapping.
  case resolvedProbe(MACAddress)
  /// Unknown until now: queue the packet and broadcast a request.
  case startResolution
  /// A request is already out: queue the packet.
  case pending
}

/// Something ``ARPCache/poll(now:)`` asks the link to do.
public enum ARPCacheEvent: Equatable, Sendable {
  /// Send a request for the address: broadcast when `to` is nil, else unicast (a probe).
  case sendRequest(IPv4Address, to: MACAddress?)
  /// The address did not answer: drop what waits for it.
  case failed(IPv4Address)
}
