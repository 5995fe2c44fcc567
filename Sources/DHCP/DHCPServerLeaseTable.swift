import NetCore

/// The DHCP server's lease table (RFC 2131 §4.3.1: the server records the bindings it makes
/// and the addresses it offers), with the bounds that keep one lying client from holding the
/// pool: at most `capacity` entries, of which at most `offerLimit` outstanding offers and
/// `declineLimit` declined addresses.
///
/// An entry belongs to one client: its client identifier and its hardware address (`chaddr`)
/// both have to match; a message with the identifier of an entry but another `chaddr` is
/// another client. Offers and declines are the entries one message can make without a lease
/// behind it; when there are too many, the oldest one goes.
struct DHCPServerLeaseTable {
  typealias Lease = DHCPServer.Lease

  /// The entries, in no particular order.
  private(set) var entries: [Lease] = []
  /// The addresses handed out (inside the subnet, without the server's own address).
  let pool: ClosedRange<IPv4Address>
  /// The server's own address, never handed out.
  let serverAddress: IPv4Address
  /// The most entries: `maximumLeases`, or fewer if the pool is smaller.
  let capacity: Int
  /// The most outstanding offers.
  let offerLimit: Int
  /// The most declined addresses.
  let declineLimit: Int

  init(
    pool: ClosedRange<IPv4Address>, serverAddress: IPv4Address, maximumLeases: Int,
    maximumOffers: Int?, maximumDeclined: Int?
  ) {
    self.pool = pool
    self.serverAddress = serverAddress
    let poolSize = UInt64(pool.upperBound.rawValue - pool.lowerBound.rawValue) + 1
    capacity = Int(min(UInt64(maximumLeases), poolSize))
    offerLimit = min(capacity, max(1, maximumOffers ?? capacity / 2))
    declineLimit = min(capacity, max(1, maximumDeclined ?? capacity / 4))
  }

  /// How many entries are in `state`.
  func count(_ state: Lease.State) -> Int {
    entries.reduce(0) { $0 + ($1.state == state ? 1 : 0) }
  }

  /// The offered or bound entry of the client with `clientID` and `hardwareAddress`.
  func record(clientID: [UInt8], hardwareAddress: MACAddress) -> Int? {
    entries.firstIndex {
      $0.state != .declined && $0.clientID == clientID && $0.hardwareAddress == hardwareAddress
    }
  }

  /// Whether an offered or bound entry has `clientID` with another hardware address.
  func hasRecord(clientID: [UInt8], otherThan hardwareAddress: MACAddress) -> Bool {
    entries.contains {
      $0.state != .declined && $0.clientID == clientID && $0.hardwareAddress != hardwareAddress
    }
  }

  /// Whether `address` has an entry (offered, bound or declined).
  func isTaken(_ address: IPv4Address) -> Bool {
    entries.contains { $0.address == address }
  }

  /// Whether `address` is in the pool, is not the server's, and has no entry.
  func isFree(_ address: IPv4Address) -> Bool {
    pool.contains(address) && address != serverAddress && !isTaken(address)
  }

  /// `preferred` if it is free, else the lowest free address of the pool.
  func freeAddress(preferring preferred: IPv4Address?) -> IPv4Address? {
    if let preferred, isFree(preferred) { return preferred }
    var candidate = pool.lowerBound.rawValue
    let last = pool.upperBound.rawValue
    // At most `entries.count + 2` candidates are taken, so this ends quickly.
    while true {
      let address = IPv4Address(rawValue: candidate)
      if isFree(address) { return address }
      if candidate == last { return nil }
      candidate += 1
    }
  }

  /// Whether one more entry fits.
  var hasRoom: Bool { entries.count < capacity }

  mutating func add(_ lease: Lease) {
    precondition(hasRoom, "the lease table is full")
    entries.append(lease)
  }

  subscript(index: Int) -> Lease {
    get { entries[index] }
    set { entries[index] = newValue }
  }

  mutating func remove(at index: Int) {
    entries.remove(at: index)
  }

  /// Removes the entry in `state` that ends first; false if there is none.
  mutating func removeOldest(_ state: Lease.State) -> Bool {
    var oldest: (index: Int, expiresAt: Instant)? = nil
    for (index, lease) in entries.enumerated() where lease.state == state {
      if let found = oldest, found.expiresAt <= lease.expiresAt { continue }
      oldest = (index, lease.expiresAt)
    }
    guard let oldest else { return false }
    entries.remove(at: oldest.index)
    return true
  }

  /// Removes the entries whose time is up; returns how many of them were bound leases.
  mutating func expire(now: Instant) -> Int {
    var boundExpired = 0
    entries.removeAll { lease in
      guard lease.expiresAt <= now else { return false }
      if lease.state == .bound { boundExpired += 1 }
      return true
    }
    return boundExpired
  }

  /// The earliest end of an entry, if any.
  var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for lease in entries { earliest = Instant.earliest(earliest, lease.expiresAt) }
    return earliest
  }
}
