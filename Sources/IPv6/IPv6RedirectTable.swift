import NetCore

/// Destinations that a router redirected to a better first hop (RFC 4861 §8.3): for each, the
/// next hop to use instead of the default router (a router on the link, or the destination
/// itself when it is on-link).
///
/// Bounded: at most ``capacity`` destinations (a new one replaces the oldest), each forgotten
/// ``lifetime`` after it was learnt.
public struct IPv6RedirectTable: Sendable {
  public struct Redirect: Equatable, Sendable {
    public var destination: IPv6Address
    public var nextHop: IPv6Address
    public var expires: Instant
  }

  public let capacity: Int
  public let lifetime: Interval
  public private(set) var redirects: [Redirect] = []

  public init(capacity: Int = 64, lifetime: Interval = .seconds(600)) {
    precondition(capacity > 0)
    self.capacity = capacity
    self.lifetime = lifetime
  }

  /// Records that `destination` is to be reached through `nextHop`.
  public mutating func record(_ destination: IPv6Address, nextHop: IPv6Address, now: Instant) {
    redirects.removeAll { $0.destination == destination }
    if redirects.count >= capacity { redirects.removeFirst() }
    redirects.append(Redirect(destination: destination, nextHop: nextHop, expires: now + lifetime))
  }

  /// The redirected next hop for `destination`, if any.
  public func nextHop(for destination: IPv6Address) -> IPv6Address? {
    redirects.first { $0.destination == destination }?.nextHop
  }

  /// Forgets the redirects through `nextHop` (a router that is gone).
  public mutating func removeAll(through nextHop: IPv6Address) {
    redirects.removeAll { $0.nextHop == nextHop }
  }

  /// Forgets expired redirects.
  public mutating func poll(now: Instant) {
    redirects.removeAll { $0.expires <= now }
  }

  /// When the next redirect expires.
  public var nextDeadline: Instant? { redirects.map { $0.expires }.min() }
}
