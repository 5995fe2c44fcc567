import NetCore

/// The default router list (RFC 4861 §5.1, §6.3.4, §6.3.6): the routers that advertised a
/// non-zero router lifetime, and a configured gateway, with when each stops being one.
///
/// Bounded by ``capacity``: an advertisement from a further router is refused and counted.
public struct IPv6RouterList: Sendable {
  /// One default router.
  public struct Router: Equatable, Sendable {
    /// Its link-local address (or the configured gateway's address).
    public var address: IPv6Address
    /// When its router lifetime ends; nil for a configured gateway.
    public var expires: Instant?
  }

  /// The most routers held.
  public let capacity: Int
  public private(set) var routers: [Router] = []
  /// Advertisements from routers refused because the list was full.
  public private(set) var refused: UInt64 = 0
  /// Where round-robin selection starts next.
  private var nextRoundRobin = 0

  public init(capacity: Int = 8) {
    precondition(capacity > 0)
    self.capacity = capacity
  }

  /// Applies a router advertisement's lifetime for `address` (§6.3.4): 0 removes it, any other
  /// value adds it or resets its expiry. A configured gateway keeps no expiry. Returns false
  /// when a new router did not fit.
  @discardableResult
  public mutating func update(_ address: IPv6Address, lifetime: Interval, now: Instant) -> Bool {
    if let index = routers.firstIndex(where: { $0.address == address }) {
      if routers[index].expires == nil { return true }
      if lifetime <= .zero {
        routers.remove(at: index)
      } else {
        routers[index].expires = now + lifetime
      }
      return true
    }
    guard lifetime > .zero else { return true }
    guard routers.count < capacity else {
      refused += 1
      return false
    }
    routers.append(Router(address: address, expires: now + lifetime))
    return true
  }

  /// Adds a configured default router that never expires (`--gateway6`); false when full.
  @discardableResult
  public mutating func addConfigured(_ address: IPv6Address) -> Bool {
    routers.removeAll { $0.address == address }
    guard routers.count < capacity else { return false }
    routers.insert(Router(address: address, expires: nil), at: 0)
    return true
  }

  /// Removes `address` (also a configured one).
  public mutating func remove(_ address: IPv6Address) {
    routers.removeAll { $0.address == address }
  }

  /// Whether `address` is on the list.
  public func contains(_ address: IPv6Address) -> Bool {
    routers.contains { $0.address == address }
  }

  /// The router to send off-link traffic to (§6.3.6): the first one that `isProbablyReachable`
  /// (its neighbour entry is anything but INCOMPLETE), else the next in round-robin order.
  public mutating func select(isProbablyReachable: (IPv6Address) -> Bool) -> IPv6Address? {
    guard !routers.isEmpty else { return nil }
    if let reachable = routers.first(where: { isProbablyReachable($0.address) }) {
      return reachable.address
    }
    let chosen = routers[nextRoundRobin % routers.count]
    nextRoundRobin = (nextRoundRobin + 1) % routers.count
    return chosen.address
  }

  /// Removes the routers whose lifetime is over; returns their addresses.
  public mutating func poll(now: Instant) -> [IPv6Address] {
    var expired: [IPv6Address] = []
    routers.removeAll { router in
      guard let expires = router.expires, expires <= now else { return false }
      expired.append(router.address)
      return true
    }
    return expired
  }

  /// When the next router's lifetime ends.
  public var nextDeadline: Instant? {
    routers.reduce(nil) { Instant.earliest($0, $1.expires) }
  }
}
