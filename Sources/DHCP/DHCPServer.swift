import NetCore

/// A DHCP server for one link: hands out addresses from a pool, with this stack as router and
/// the configured DNS servers (RFC 2131 §4.3). Sans-IO: messages and `now` go in, the reply
/// and where to send it come out.
///
/// An address is in one of three states: offered (reserved for `offerTime` after a
/// DHCPOFFER), bound (after a DHCPACK, until the lease ends) or declined (a client found it
/// in use; unavailable for `declineTime`). ``poll(now:)`` frees entries whose time is up.
/// Relayed messages (`giaddr` set) are not served: this server answers on its own link only.
///
/// Every client is taken to lie, so no single message binds an address: a lease is made only
/// by a DHCPREQUEST for the address offered to that client (SELECTING) or by one from a
/// client that already holds it (INIT-REBOOT, RENEWING, REBINDING); a request from a client
/// the server has no record of is left unanswered (RFC 2131 §4.3.2). The messages that can
/// reserve an address without a lease are bounded: the table (`maximumLeases`), outstanding
/// offers (`maximumOffers`, short-lived) and declined addresses (`maximumDeclined`); a client
/// is known by its client identifier and its `chaddr` together. Each refusal is counted.
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
    /// How long an offer keeps its address reserved: a client's REQUEST follows its offer
    /// within a round trip, and a DISCOVER flood must not hold addresses for long.
    public var offerTime = Interval.seconds(10)
    /// How long an address a client declined stays out of the pool.
    public var declineTime = Interval.seconds(600)
    /// The most entries in the lease table.
    public var maximumLeases = 1024
    /// The most outstanding offers; a DISCOVER beyond them replaces the oldest. Nil: half
    /// the table (at least one).
    public var maximumOffers: Int?
    /// The most declined addresses; a DECLINE beyond them returns the oldest one to the
    /// pool. Nil: a quarter of the table (at least one).
    public var maximumDeclined: Int?

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
  public private(set) var counters = DHCPServerCounters()
  private var table: DHCPServerLeaseTable

  public init(configuration: Configuration) {
    precondition(configuration.maximumLeases > 0)
    self.configuration = configuration
    table = DHCPServerLeaseTable(
      pool: configuration.pool, serverAddress: configuration.address.address,
      maximumLeases: configuration.maximumLeases, maximumOffers: configuration.maximumOffers,
      maximumDeclined: configuration.maximumDeclined)
  }

  /// The lease table, in no particular order.
  public var leases: [Lease] { table.entries }
  /// The bound leases.
  public var boundLeases: [Lease] { leases.filter { $0.state == .bound } }
  /// The most entries the table holds: `maximumLeases`, or fewer if the pool is smaller.
  public var capacity: Int { table.capacity }
  /// The most outstanding offers: `maximumOffers`, by default half of ``capacity``.
  public var offerLimit: Int { table.offerLimit }
  /// The most declined addresses: `maximumDeclined`, by default a quarter of ``capacity``.
  public var declineLimit: Int { table.declineLimit }

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
    if table.hasRecord(clientID: clientID(message), otherThan: message.clientHardwareAddress) {
      counters.clientMismatches += 1
    }
    switch type {
    case .discover:
      counters.discoversReceived += 1
      return offer(message, now: now)
    case .request:
      counters.requestsReceived += 1
      return request(message, now: now)
    case .decline:
      counters.declinesReceived += 1
      decline(message, now: now)
      return nil
    case .release:
      counters.releasesReceived += 1
      release(message)
      return nil
    case .inform:
      counters.informsReceived += 1
      return inform(message)
    default:
      counters.ignored += 1
      return nil
    }
  }

  /// DHCPDISCOVER: the client's current address, else the one it asks for if free, else the
  /// first free address of the pool (RFC 2131 §4.3.1). A new offer beyond `offerLimit`, or
  /// when no address is free, replaces the oldest outstanding offer.
  private mutating func offer(_ discover: DHCPMessage, now: Instant) -> DHCPServerReply? {
    let address: IPv4Address
    if let index = record(of: discover) {
      address = table[index].address
      if table[index].state == .offered { table[index].expiresAt = now + configuration.offerTime }
    } else {
      if table.count(.offered) >= table.offerLimit { dropOldestOffer() }
      let requested = discover.options.requestedAddress
      var free = table.freeAddress(preferring: requested)
      if free == nil || !table.hasRoom {
        guard dropOldestOffer() else {
          counters.poolExhausted += 1
          return nil
        }
        free = free ?? table.freeAddress(preferring: requested)
      }
      guard let free else {
        counters.poolExhausted += 1
        return nil
      }
      address = free
      table.add(
        Lease(
          address: free, clientID: clientID(discover),
          hardwareAddress: discover.clientHardwareAddress, hostName: discover.options.hostName,
          state: .offered, expiresAt: now + configuration.offerTime))
    }
    counters.offersSent += 1
    return DHCPServerReply(
      message: reply(.offer, to: discover, yourAddress: address),
      destination: destination(for: discover, yourAddress: address))
  }

  /// DHCPREQUEST, RFC 2131 §4.3.2. SELECTING (server identifier): ours, and the address
  /// offered to this client, or NAK. INIT-REBOOT (requested address, no `ciaddr`) and
  /// RENEWING/REBINDING (`ciaddr`): NAK for an address outside our subnet, another than the
  /// client's own, or one another client holds; ACK for the client's own; silence when the
  /// server has no record of the client ("MUST remain silent").
  private mutating func request(_ request: DHCPMessage, now: Instant) -> DHCPServerReply? {
    let entry = record(of: request)
    if let server = request.options.serverIdentifier {
      guard server == configuration.address.address else {
        // The client took another server's offer: free ours.
        if let entry, table[entry].state == .offered { table.remove(at: entry) }
        counters.ignored += 1
        return nil
      }
      guard let wanted = request.options.requestedAddress ?? nonzero(request.clientAddress),
        let entry, table[entry].address == wanted
      else {
        counters.requestsNotOffered += 1
        return nak(request)
      }
      return bind(entry, for: request, now: now)
    }
    let wanted: IPv4Address
    if let requested = request.options.requestedAddress, request.clientAddress == .any {
      wanted = requested
    } else if request.clientAddress.isUnicast {
      wanted = request.clientAddress
    } else {
      counters.ignored += 1
      return nil
    }
    guard isOnOurNetwork(wanted) else {
      counters.requestsWrongNetwork += 1
      return nak(request)
    }
    if let entry {
      guard table[entry].address == wanted else {
        counters.requestsWrongAddress += 1
        return nak(request)
      }
      return bind(entry, for: request, now: now)
    }
    if table.isTaken(wanted) {
      counters.requestsWrongAddress += 1
      return nak(request)
    }
    counters.requestsUnknownClient += 1
    return nil
  }

  /// Binds (or extends) the client's entry for a lease time and ACKs.
  private mutating func bind(_ index: Int, for request: DHCPMessage, now: Instant)
    -> DHCPServerReply
  {
    table[index].state = .bound
    table[index].expiresAt = now + configuration.leaseTime
    if let name = request.options.hostName { table[index].hostName = name }
    let address = table[index].address
    counters.acksSent += 1
    return DHCPServerReply(
      message: reply(.ack, to: request, yourAddress: address),
      destination: destination(for: request, yourAddress: address))
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

  /// DHCPDECLINE (RFC 2131 §4.3.3): the address given to this client is in use; it stays out
  /// of the pool for `declineTime`. Only the client it was given to can decline it, and at
  /// most `declineLimit` addresses are declined at once (the oldest goes back first).
  private mutating func decline(_ decline: DHCPMessage, now: Instant) {
    guard decline.options.serverIdentifier == configuration.address.address,
      let address = decline.options.requestedAddress,
      let entry = record(of: decline), table[entry].address == address
    else {
      counters.declinesRefused += 1
      return
    }
    table.remove(at: entry)
    if table.count(.declined) >= table.declineLimit, table.removeOldest(.declined) {
      counters.declinesForgotten += 1
    }
    table.add(
      Lease(
        address: address, clientID: [], hardwareAddress: decline.clientHardwareAddress,
        hostName: nil, state: .declined, expiresAt: now + configuration.declineTime))
  }

  /// DHCPRELEASE (RFC 2131 §4.3.4): frees the lease, if it is for us (server identifier) and
  /// the sender holds it (client identifier, `chaddr` and `ciaddr` match a bound lease).
  private mutating func release(_ release: DHCPMessage) {
    guard release.options.serverIdentifier == configuration.address.address,
      let entry = record(of: release), table[entry].state == .bound,
      table[entry].address == release.clientAddress
    else {
      counters.releasesRefused += 1
      return
    }
    table.remove(at: entry)
  }

  /// DHCPINFORM (RFC 2131 §4.3.5): the options without a lease, to a client on our subnet.
  private mutating func inform(_ inform: DHCPMessage) -> DHCPServerReply? {
    guard isOnOurNetwork(inform.clientAddress) else {
      counters.ignored += 1
      return nil
    }
    var ack = reply(.ack, to: inform, yourAddress: .any)
    ack.options.leaseTime = nil
    ack.options.renewalTime = nil
    ack.options.rebindingTime = nil
    counters.acksSent += 1
    return DHCPServerReply(message: ack, destination: .client(inform.clientAddress))
  }

  // MARK: Timers

  /// Ends offers, leases and declines whose time is up.
  public mutating func poll(now: Instant) {
    expire(now: now)
  }

  /// The earliest end of an entry, if any.
  public var nextDeadline: Instant? { table.nextDeadline }

  private mutating func expire(now: Instant) {
    counters.leasesExpired += UInt64(table.expire(now: now))
  }

  // MARK: The table

  /// How a client is known: its client identifier, else 1 (Ethernet) and its MAC.
  private func clientID(_ message: DHCPMessage) -> [UInt8] {
    if let identifier = message.options.clientIdentifier { return identifier }
    let mac = message.clientHardwareAddress
    return [1] + (0..<6).map { mac.octet($0) }
  }

  /// The sender's offered or bound entry: same client identifier and same `chaddr`.
  private func record(of message: DHCPMessage) -> Int? {
    table.record(clientID: clientID(message), hardwareAddress: message.clientHardwareAddress)
  }

  private func nonzero(_ address: IPv4Address) -> IPv4Address? {
    address.isUnspecified ? nil : address
  }

  /// Whether `address` can be a client's on our subnet: inside it, not its network or
  /// broadcast address, not ours.
  private func isOnOurNetwork(_ address: IPv4Address) -> Bool {
    let subnet = configuration.address
    return address.isUnicast && subnet.contains(address) && address != subnet.address
      && !subnet.isDirectedBroadcast(address)
      && (subnet.prefixLength > 30 || address != subnet.networkAddress)
  }

  /// Drops the oldest outstanding offer to make way for a newer one; false if there is none.
  @discardableResult
  private mutating func dropOldestOffer() -> Bool {
    guard table.removeOldest(.offered) else { return false }
    counters.offersReplaced += 1
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
