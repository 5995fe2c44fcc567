import NetCore

/// The prefix list (RFC 4861 §5.1, §6.3.4): the prefixes that are on-link, from router
/// advertisements' prefix information with the L flag (with their valid lifetimes) and from
/// the configured addresses (forever). The link-local prefix is always on-link and not kept
/// here.
///
/// Bounded by ``capacity``: a further advertised prefix is refused and counted.
public struct IPv6PrefixList: Sendable {
  /// One on-link prefix.
  public struct Prefix: Equatable, Sendable {
    /// The prefix (bits after its length cleared).
    public var prefix: IPv6CIDR
    /// When it stops being on-link; nil for a configured one.
    public var expires: Instant?
  }

  public let capacity: Int
  public private(set) var prefixes: [Prefix] = []
  /// Advertised prefixes refused because the list was full.
  public private(set) var refused: UInt64 = 0

  public init(capacity: Int = 16) {
    precondition(capacity > 0)
    self.capacity = capacity
  }

  /// Applies an advertised on-link prefix (§6.3.4): a new one with a non-zero valid lifetime
  /// is added, a known one gets the new lifetime (0 times it out at once). Configured
  /// prefixes are not changed.
  public mutating func update(_ prefix: IPv6CIDR, validLifetime seconds: UInt32, now: Instant) {
    let network = prefix.network
    let expires: Instant? =
      seconds == NDPPrefixInformation.infinite ? nil : now + .seconds(Int64(seconds))
    if let index = prefixes.firstIndex(where: { $0.prefix == network }) {
      // A configured prefix is marked by `configured`; advertisements leave it alone.
      if configured.contains(network) { return }
      if seconds == 0 {
        prefixes.remove(at: index)
      } else {
        prefixes[index].expires = expires
      }
      return
    }
    guard seconds > 0 else { return }
    guard prefixes.count < capacity else {
      refused += 1
      return
    }
    prefixes.append(Prefix(prefix: network, expires: expires))
  }

  /// The configured prefixes (kept apart so that advertisements do not time them out).
  private var configured: [IPv6CIDR] = []

  /// Adds the prefix of a configured address, forever; false when full.
  @discardableResult
  public mutating func addConfigured(_ prefix: IPv6CIDR) -> Bool {
    let network = prefix.network
    if configured.contains(network) { return true }
    if let index = prefixes.firstIndex(where: { $0.prefix == network }) {
      prefixes[index].expires = nil
    } else {
      guard prefixes.count < capacity else { return false }
      prefixes.append(Prefix(prefix: network, expires: nil))
    }
    configured.append(network)
    return true
  }

  /// Removes a configured prefix.
  public mutating func removeConfigured(_ prefix: IPv6CIDR) {
    let network = prefix.network
    configured.removeAll { $0 == network }
    prefixes.removeAll { $0.prefix == network }
  }

  /// Whether `address` lies in an on-link prefix (the link-local prefix aside).
  public func isOnLink(_ address: IPv6Address) -> Bool {
    prefixes.contains { $0.prefix.contains(address) }
  }

  /// Removes the prefixes whose lifetime is over.
  public mutating func poll(now: Instant) {
    prefixes.removeAll { prefix in
      guard let expires = prefix.expires else { return false }
      return expires <= now
    }
  }

  /// When the next prefix's lifetime ends.
  public var nextDeadline: Instant? {
    prefixes.reduce(nil) { Instant.earliest($0, $1.expires) }
  }
}
