import NetCore

/// Path MTUs learnt from packet too big messages, per destination (RFC 8201 §4, §5.2).
///
/// A packet too big message can only lower a destination's estimate, never below the IPv6
/// minimum of 1280 bytes (a report below it is refused by the caller, as §4 requires) and
/// never above the link MTU. An estimate is forgotten ``Configuration/expiry`` after it was
/// last lowered (§4: "attempt to detect an increase ... no less than 5 minutes", recommended
/// 10), so that a path that grew is used again. At most ``Configuration/capacity``
/// destinations are held; a new one then replaces the one lowered longest ago. The transports
/// read ``pathMTU(to:linkMTU:)`` for each send.
public struct IPv6PathMTUCache: Sendable {
  public struct Configuration: Sendable {
    /// Destinations held.
    public var capacity = 256
    /// How long a lowered estimate is kept (RFC 8201 §4: 10 minutes).
    public var expiry = Interval.seconds(600)

    public init() {}
  }

  /// One destination's estimate.
  public struct Entry: Equatable, Sendable {
    public var destination: IPv6Address
    public var mtu: Int
    /// When the estimate was last lowered.
    public var updated: Instant
  }

  public let configuration: Configuration
  public private(set) var entries: [Entry] = []
  /// Entries replaced because the cache was full.
  public private(set) var evictions: UInt64 = 0

  public init(configuration: Configuration = Configuration()) {
    precondition(configuration.capacity > 0)
    self.configuration = configuration
  }

  /// The path MTU towards `destination`: the learnt estimate if lower than `linkMTU`, else
  /// `linkMTU`.
  public func pathMTU(to destination: IPv6Address, linkMTU: Int) -> Int {
    guard let entry = entries.first(where: { $0.destination == destination }) else {
      return linkMTU
    }
    return min(entry.mtu, linkMTU)
  }

  /// Records that a packet too big reported `mtu` towards `destination`; returns whether the
  /// estimate went down. `mtu` must be at least 1280 (the caller refuses smaller reports).
  @discardableResult
  public mutating func lower(
    _ destination: IPv6Address, to mtu: Int, linkMTU: Int, now: Instant
  ) -> Bool {
    precondition(mtu >= IPv6Header.minimumMTU)
    if let index = entries.firstIndex(where: { $0.destination == destination }) {
      guard mtu < entries[index].mtu else { return false }
      entries[index].mtu = mtu
      entries[index].updated = now
      return true
    }
    guard mtu < linkMTU else { return false }
    if entries.count >= configuration.capacity,
      let oldest = entries.indices.min(by: { entries[$0].updated < entries[$1].updated })
    {
      entries.remove(at: oldest)
      evictions += 1
    }
    entries.append(Entry(destination: destination, mtu: mtu, updated: now))
    return true
  }

  /// Forgets the estimates that have aged out.
  public mutating func poll(now: Instant) {
    let expiry = configuration.expiry
    entries.removeAll { now - $0.updated >= expiry }
  }

  /// When the oldest estimate ages out.
  public var nextDeadline: Instant? {
    entries.reduce(nil) { Instant.earliest($0, $1.updated + configuration.expiry) }
  }
}
