import NetCore

/// A DHCP server for one link: hands out addresses from a pool, with this stack as router and
/// the configured DNS servers (RFC 2131 §4.3). Sans-IO: messages and `now` go in, the reply
/// and where to send it come out.
///
/// The lease table is bounded (`maximumLeases`, and never more than the pool holds). An
/// address is in one of three states: offered (reserved for `offerTime` after a DHCPOFFER),
/// bound (after a DHCPACK, until the lease ends) or declined (a client found it in use;
/// unavailable for `declineTime`). ``poll(now:)`` frees entries whose time is up. Relayed
/// messages (`giaddr` set) are not served: this server answers on its own link only.
public struct DHCPServer {
  /// The pool and what the leases carry.
  public struct Configuration: Sendable {
    /// Our address and prefix: the server identifier, the subnet mask and, by default, the
    /// router the clients are given.
    public var address: IPv4CIDR
    /// The addresses to hand out (inside `address`'s subnet, without our own address).
    public var pool: ClosedRange<IPv4Address>
    /// The router option; nil to send none.
    public var router: IPv4Address?
    public var domainNameServers: [IPv4Address] = []
    public var domainName: [UInt8]?
    /// The interface MTU option; nil to send none.
    public var mtu: UInt16?
    public var leaseTime = Interval.seconds(3600)
    /// How long an offer keeps its address reserved.
    public var offerTime = Interval.seconds(60)
    /// How long an address a client declined stays out of the pool.
    public var declineTime = Interval.seconds(600)
    /// The most entries in the lease table.
    public var maximumLeases = 1024

    public init(address: IPv4CIDR, pool: ClosedRange<IPv4Address>) {
      self.address = address
      self.pool = pool
      router = address.address
    }
  }

  /// One entry of the lease table.
  public struct Lease: Equatable, Sendable {
    public enum State: Equatable, Sendable {
      case offered
      case bound
      case declined
    }

    public var address: IPv4Address
    /// The client identifier option, or 1 and `chaddr` when there was none.
    public var clientID: [UInt8]
    public var hardwareAddress: MACAddress
    public var hostName: [UInt8]?
    public var state: State
    public var expiresAt: Instant
  }

  public let configuration: Configuration
  /// The lease table, in no particular order.
  public private(set) var leases: [Lease] = []
  public private(set) var counters = DHCPServerCounters()
  /// The most entries the table holds: `maximumLeases`, or fewer if the pool is smaller.
  public let capacity: Int

  public init(configuration: Configuration) {
    precondition(configuration.maximumLeases > 0)
    self.configuration = configuration
    let poolSize =
      UInt64(configuration.pool.upperBound.rawValue - configuration.pool.lowerBound.rawValue) + 1
    capacity = Int(min(UInt64(configuration.maximumLeases), poolSize))
  }

  /// The bound leases.
  public var boundLeases: [Lease] { leases.filter { $0.state == .bound } }

  // MARK: Receiving

  /// Handles the payload of a UDP datagram to port 67.
  public mutating func receive(_ payload: Span<UInt8>, now: Instant) -> DHCPServerReply? {
    let message: DHCPMessage
    do {
      message = try DHCPMessage(parsing: payload)
    } catch {
      counters.droppedMalformed += 1
      return nil
    }
    return receive(message, now: now)
  }

  /// Handles a parsed message from a client.
  public mutating func receive(_ message: DHCPMessage, now: Instant) -> DHCPServerReply? {
    guard message.operation == .request, message.relayAddress == .any,
      message.clientHardwareAddress.isUnicast, let type = message.messageType
    else {
      counters.ignored += 1
      return nil
    }
    expire(now: now)
    switch type {
    case .discover:
      counters.discoversReceived += 1
      return offer(message, now: now)
    case .request:
      counters.requestsReceived += 1
      return request(message, now: now)
    case .decline:
      counters.declinesReceived += 1
      guard message.options.serverIdentifier == configuration.address.address,
        let address = message.options.requestedAddress,
        let index = entry(for: clientID(message), address: address)
      else { return nil }
      leases[index].state = .declined
      leases[index].clientID = []
      leases[index].expiresAt = now + configuration.declineTime
      return nil
    case .release:
      counters.releasesReceived += 1
      if let index = entry(for: clientID(message), address: message.clientAddress),
        leases[index].state == .bound
      {
        leases.remove(at: index)
      }
      return nil
    case .inform:
      counters.informsReceived += 1
      guard message.clientAddress.isUnicast else { return nil }
      var ack = reply(.ack, to: message, yourAddress: .any)
      ack.options.leaseTime = nil
      ack.options.renewalTime = nil
      ack.options.rebindingTime = nil
      counters.acksSent += 1
      return DHCPServerReply(message: ack, destination: .client(message.clientAddress))
    default:
      counters.ignored += 1
      return nil
    }
  }

  /// DHCPDISCOVER: the client's current address, else the one it asks for if free, else the
  /// first free address of the pool (RFC 2131 §4.3.1).
  private mutating func offer(_ discover: DHCPMessage, now: Instant) -> DHCPServerReply? {
    let client = clientID(discover)
    let address: IPv4Address
    if let index = leases.firstIndex(where: { $0.clientID == client && $0.state != .declined }) {
      address = leases[index].address
      if leases[index].state == .offered { leases[index].expiresAt = now + configuration.offerTime }
    } else {
      let requested = discover.options.requestedAddress
      guard let free = requested.flatMap({ isFree($0) ? $0 : nil }) ?? firstFreeAddress(),
        makeRoom()
      else {
        counters.poolExhausted += 1
        return nil
      }
      address = free
      leases.append(
        Lease(
          address: free, clientID: client, hardwareAddress: discover.clientHardwareAddress,
          hostName: discover.options.hostName, state: .offered,
          expiresAt: now + configuration.offerTime))
    }
    counters.offersSent += 1
    return DHCPServerReply(
      message: reply(.offer, to: discover, yourAddress: address),
      destination: destination(for: discover, yourAddress: address))
  }

  /// DHCPREQUEST in SELECTING (server identifier), INIT-REBOOT (requested address) or
  /// RENEWING/REBINDING (`ciaddr`), RFC 2131 §4.3.2.
  private mutating func request(_ request: DHCPMessage, now: Instant) -> DHCPServerReply? {
    let client = clientID(request)
    let ours = configuration.address.address
    let wanted: IPv4Address
    if let server = request.options.serverIdentifier {
      guard server == ours else {
        // The client took another server's offer: free ours.
        if let index = leases.firstIndex(where: { $0.clientID == client && $0.state == .offered }) {
          leases.remove(at: index)
        }
        counters.ignored += 1
        return nil
      }
      guard let requested = request.options.requestedAddress ?? nonzero(request.clientAddress),
        entry(for: client, address: requested) != nil
      else { return nak(request) }
      wanted = requested
    } else if let requested = request.options.requestedAddress, request.clientAddress == .any {
      wanted = requested
    } else if request.clientAddress.isUnicast {
      wanted = request.clientAddress
    } else {
      counters.ignored += 1
      return nil
    }
    if let index = entry(for: client, address: wanted) {
      leases[index].state = .bound
      leases[index].expiresAt = now + configuration.leaseTime
      leases[index].hardwareAddress = request.clientHardwareAddress
      if let name = request.options.hostName { leases[index].hostName = name }
    } else if isFree(wanted), makeRoom() {
      leases.append(
        Lease(
          address: wanted, clientID: client, hardwareAddress: request.clientHardwareAddress,
          hostName: request.options.hostName, state: .bound,
          expiresAt: now + configuration.leaseTime))
    } else {
      return nak(request)
    }
    counters.acksSent += 1
    return DHCPServerReply(
      message: reply(.ack, to: request, yourAddress: wanted),
      destination: destination(for: request, yourAddress: wanted))
  }

  private mutating func nak(_ request: DHCPMessage) -> DHCPServerReply {
    var nak = DHCPMessage(
      operation: .reply, transactionID: request.transactionID,
      clientHardwareAddress: request.clientHardwareAddress)
    nak.broadcast = request.broadcast
    nak.options.messageType = .nak
    nak.options.serverIdentifier = configuration.address.address
    nak.options.message = Array("address not available".utf8)
    counters.naksSent += 1
    // RFC 2131 §4.3.2: without a relay, a DHCPNAK is broadcast.
    return DHCPServerReply(message: nak, destination: .broadcast)
  }

  // MARK: Timers

  /// Ends offers, leases and declines whose time is up.
  public mutating func poll(now: Instant) {
    expire(now: now)
  }

  /// The earliest end of an entry, if any.
  public var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for lease in leases { earliest = Instant.earliest(earliest, lease.expiresAt) }
    return earliest
  }

  private mutating func expire(now: Instant) {
    var index = 0
    while index < leases.count {
      if leases[index].expiresAt <= now {
        if leases[index].state == .bound { counters.leasesExpired += 1 }
        leases.remove(at: index)
      } else {
        index += 1
      }
    }
  }

  // MARK: The table

  /// How a client is known: its client identifier, else 1 (Ethernet) and its MAC.
  private func clientID(_ message: DHCPMessage) -> [UInt8] {
    if let identifier = message.options.clientIdentifier { return identifier }
    let mac = message.clientHardwareAddress
    return [1] + (0..<6).map { mac.octet($0) }
  }

  private func nonzero(_ address: IPv4Address) -> IPv4Address? {
    address.isUnspecified ? nil : address
  }

  /// The entry that gives `address` to `client` (offered or bound).
  private func entry(for client: [UInt8], address: IPv4Address) -> Int? {
    leases.firstIndex { $0.address == address && $0.clientID == client && $0.state != .declined }
  }

  /// Whether `address` is in the pool, is not ours, and has no entry.
  private func isFree(_ address: IPv4Address) -> Bool {
    configuration.pool.contains(address) && address != configuration.address.address
      && !leases.contains { $0.address == address }
  }

  /// The lowest free address of the pool.
  private func firstFreeAddress() -> IPv4Address? {
    var candidate = configuration.pool.lowerBound.rawValue
    let last = configuration.pool.upperBound.rawValue
    // At most `leases.count + 2` candidates are taken, so this ends quickly.
    while true {
      let address = IPv4Address(rawValue: candidate)
      if isFree(address) { return address }
      if candidate == last { return nil }
      candidate += 1
    }
  }

  /// Makes sure the table has room for one more entry, dropping the oldest offer if it must;
  /// false when every entry is a lease or a decline.
  private mutating func makeRoom() -> Bool {
    if leases.count < capacity { return true }
    var oldest: Int? = nil
    for (index, lease) in leases.enumerated() where lease.state == .offered {
      if oldest == nil || lease.expiresAt < leases[oldest!].expiresAt { oldest = index }
    }
    guard let oldest else { return false }
    leases.remove(at: oldest)
    return true
  }

  // MARK: Replies

  /// A reply with the fields RFC 2131 table 3 asks for, and the lease's options.
  private func reply(
    _ type: DHCPMessageType, to request: DHCPMessage, yourAddress: IPv4Address
  ) -> DHCPMessage {
    var message = DHCPMessage(
      operation: .reply, transactionID: request.transactionID,
      clientHardwareAddress: request.clientHardwareAddress)
    message.broadcast = request.broadcast
    message.clientAddress = type == .offer ? .any : request.clientAddress
    message.yourAddress = yourAddress
    var options = DHCPOptions()
    options.messageType = type
    options.serverIdentifier = configuration.address.address
    let seconds = UInt32(clamping: configuration.leaseTime.seconds)
    options.leaseTime = seconds
    options.renewalTime = seconds / 2
    options.rebindingTime = UInt32((UInt64(seconds) * 7) / 8)
    options.subnetMask = configuration.address.netmask
    if let router = configuration.router { options.routers = [router] }
    options.domainNameServers = configuration.domainNameServers
    options.domainName = configuration.domainName
    options.interfaceMTU = configuration.mtu
    message.options = options
    return message
  }

  /// Where a reply goes (RFC 2131 §4.1): to `ciaddr` if the client has one; broadcast if it
  /// asked for that; else to the offered address at the client's MAC, which has no ARP
  /// entry yet (the stack adds one, as Linux servers do).
  private func destination(for request: DHCPMessage, yourAddress: IPv4Address)
    -> DHCPServerDestination
  {
    if request.clientAddress.isUnicast { return .client(request.clientAddress) }
    if request.broadcast { return .broadcast }
    return .hardware(yourAddress, request.clientHardwareAddress)
  }
}

/// A server's answer and where to send it (from port 67 to port 68).
public struct DHCPServerReply: Equatable, Sendable {
  public var message: DHCPMessage
  public var destination: DHCPServerDestination
}

/// Where ``DHCPServerReply`` goes.
public enum DHCPServerDestination: Equatable, Sendable {
  /// 255.255.255.255.
  case broadcast
  /// The client's own address (it has one: renewing, informing).
  case client(IPv4Address)
  /// The address being assigned, at this MAC (RFC 2131 §4.1: unicast to `chaddr`/`yiaddr`).
  case hardware(IPv4Address, MACAddress)
}
