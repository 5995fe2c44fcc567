import NetCore

/// The relay's flows of one kind: ICMP echo (``ICMPEchoFlowTable``: one per guest, echo
/// identifier and destination) or UDP (``UDPFlowTable``: one per guest address and port and
/// destination address and port), each of which the host side sends from a socket of its own,
/// so that what comes back on it maps back to the guest. Bounded: at ``maximumFlows`` the least
/// recently used flow makes room; a flow unused for ``idleTimeout`` expires (as Linux's
/// conntrack forgets ICMP after 30 s and UDP after 30 s to 120 s, and slirp4netns closes its
/// sockets after their idle time).
public struct RelayFlowTable<FlowKey: Hashable & Sendable>: Sendable {
  /// What names a flow.
  public typealias Key = FlowKey

  /// One flow: its key, its number (never reused), where the host sends it, its traffic.
  public struct Flow: Sendable, Equatable {
    public let id: UInt64
    public let key: Key
    public let hostDestination: IPAddress
    public let created: Instant
    public internal(set) var lastUsed: Instant
    public internal(set) var requests: UInt64 = 0
    public internal(set) var replies: UInt64 = 0
  }

  /// What ``use(_:hostDestination:now:)`` did.
  public struct Use: Sendable, Equatable {
    /// The flow's number.
    public var id: UInt64
    /// The flow is new: the host side opens its socket.
    public var created: Bool
    /// The flow that made room for it, if the table was full: the host side closes its socket.
    public var evicted: UInt64?
  }

  public let maximumFlows: Int
  public let idleTimeout: Interval
  private var flows: [UInt64: Flow] = [:]
  private var idByKey: [Key: UInt64] = [:]
  private var nextID: UInt64 = 1
  /// Flows that made room for newer ones.
  public private(set) var evictions: UInt64 = 0
  /// Flows that expired unused.
  public private(set) var expirations: UInt64 = 0

  /// A table of at most `maximumFlows` (at least 1) whose flows expire after `idleTimeout`.
  public init(maximumFlows: Int = 1024, idleTimeout: Interval = .seconds(60)) {
    self.maximumFlows = max(1, maximumFlows)
    self.idleTimeout = idleTimeout
  }

  public var count: Int { flows.count }

  /// The flows, oldest first.
  public var all: [Flow] { flows.values.sorted { $0.id < $1.id } }

  public func flow(_ id: UInt64) -> Flow? { flows[id] }

  /// The flow for a request with `key`, made if there is none (evicting the least recently
  /// used one when full); counts the request.
  public mutating func use(_ key: Key, hostDestination: IPAddress, now: Instant) -> Use {
    if let id = idByKey[key] {
      flows[id]!.lastUsed = now
      flows[id]!.requests += 1
      return Use(id: id, created: false, evicted: nil)
    }
    var evicted: UInt64? = nil
    if flows.count >= maximumFlows, let oldest = flows.values.min(by: { $0.lastUsed < $1.lastUsed })
    {
      remove(oldest.id)
      evictions += 1
      evicted = oldest.id
    }
    let id = nextID
    nextID += 1
    var flow = Flow(id: id, key: key, hostDestination: hostDestination, created: now, lastUsed: now)
    flow.requests = 1
    flows[id] = flow
    idByKey[key] = id
    return Use(id: id, created: true, evicted: evicted)
  }

  /// Counts a reply on flow `id` (it keeps the flow alive too).
  public mutating func recordReply(_ id: UInt64, now: Instant) {
    guard flows[id] != nil else { return }
    flows[id]!.replies += 1
    flows[id]!.lastUsed = now
  }

  /// Forgets flow `id` (its socket failed).
  public mutating func remove(_ id: UInt64) {
    guard let flow = flows.removeValue(forKey: id) else { return }
    idByKey[flow.key] = nil
  }

  /// Removes the flows idle for ``idleTimeout`` and returns their numbers.
  public mutating func expire(now: Instant) -> [UInt64] {
    let expired = flows.values.filter { now - $0.lastUsed >= idleTimeout }.map(\.id)
    for id in expired { remove(id) }
    expirations += UInt64(expired.count)
    return expired
  }

  /// When the next flow expires, if any.
  public var nextDeadline: Instant? {
    flows.values.map(\.lastUsed).min().map { $0 + idleTimeout }
  }
}
