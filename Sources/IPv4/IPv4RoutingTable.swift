import NetCore

/// Where to send a datagram next: the destination itself when it is on a connected network,
/// else a gateway (RFC 1122 §3.3.1). Longest prefix wins; the table is small and bounded.
public struct IPv4RoutingTable: Sendable {
  /// One route: datagrams for `destination` go to `gateway`, or straight to the destination
  /// on the link when `gateway` is nil.
  public struct Route: Equatable, Sendable {
    public var destination: IPv4CIDR
    public var gateway: IPv4Address?

    public init(destination: IPv4CIDR, gateway: IPv4Address?) {
      self.destination = destination.network
      self.gateway = gateway
    }
  }

  /// The most routes held.
  public static let limit = 32
  public private(set) var routes: [Route] = []

  public init() {}

  /// Adds or replaces the route for `route.destination`; false when the table is full.
  @discardableResult
  public mutating func add(_ route: Route) -> Bool {
    if let existing = routes.firstIndex(where: { $0.destination == route.destination }) {
      routes[existing] = route
      return true
    }
    guard routes.count < IPv4RoutingTable.limit else { return false }
    routes.append(route)
    return true
  }

  /// Removes every route.
  public mutating func removeAll() { routes.removeAll() }

  /// The next hop for `destination`, or nil when no route covers it.
  public func nextHop(for destination: IPv4Address) -> IPv4Address? {
    var best: Route? = nil
    for route in routes where route.destination.contains(destination) {
      if best == nil || route.destination.prefixLength > best!.destination.prefixLength {
        best = route
      }
    }
    guard let best else { return nil }
    return best.gateway ?? destination
  }
}
