import NetCore

/// The recursive DNS servers routers advertise (RFC 8106 §5.3), with their lifetimes, kept
/// for the status report.
///
/// Bounded by ``capacity``: further servers are refused and counted.
public struct IPv6DNSServerList: Sendable {
  public struct Server: Equatable, Sendable {
    public var address: IPv6Address
    /// When it may no longer be used; nil for ever.
    public var expires: Instant?
  }

  public let capacity: Int
  public private(set) var servers: [Server] = []
  /// Servers refused because the list was full.
  public private(set) var refused: UInt64 = 0

  public init(capacity: Int = 8) {
    precondition(capacity > 0)
    self.capacity = capacity
  }

  /// Applies an option (RFC 8106 §5.3.1): each server is added or gets the new lifetime; a
  /// lifetime of 0 removes it.
  public mutating func update(_ option: NDPRecursiveDNSServers, now: Instant) {
    let expires: Instant? =
      option.lifetime == NDPPrefixInformation.infinite
      ? nil : now + .seconds(Int64(option.lifetime))
    for address in option.servers {
      if let index = servers.firstIndex(where: { $0.address == address }) {
        if option.lifetime == 0 {
          servers.remove(at: index)
        } else {
          servers[index].expires = expires
        }
        continue
      }
      guard option.lifetime > 0, address.isUnicast else { continue }
      guard servers.count < capacity else {
        refused += 1
        continue
      }
      servers.append(Server(address: address, expires: expires))
    }
  }

  /// Removes the servers whose lifetime is over.
  public mutating func poll(now: Instant) {
    servers.removeAll { server in
      guard let expires = server.expires else { return false }
      return expires <= now
    }
  }

  /// When the next server's lifetime ends.
  public var nextDeadline: Instant? {
    servers.reduce(nil) { Instant.earliest($0, $1.expires) }
  }
}
