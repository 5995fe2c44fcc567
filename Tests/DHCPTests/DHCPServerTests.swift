import DHCP
import NetCore
import Testing

/// The server (RFC 2131 §4.3) against udhcpc's and dhclient's captured messages and made-up
/// clients: offers, requests in each client state, NAKs, the bounded table, expiry.
struct DHCPServerTests {
  typealias C = DnsmasqCaptures
  static let ours = IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24)
  static let first = IPv4Address(10, 0, 0, 135)
  static let udhcpc = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let start = Instant(nanoseconds: 1_000_000_000)

  /// A server for 10.0.0.135-10.0.0.140 (so that the captured REQUEST for .135 matches).
  static func makeServer(_ change: (inout DHCPServer.Configuration) -> Void = { _ in })
    -> DHCPServer
  {
    var configuration = DHCPServer.Configuration(
      address: ours, pool: first...IPv4Address(10, 0, 0, 140))
    configuration.domainNameServers = [IPv4Address(10, 0, 0, 53)]
    configuration.leaseTime = .seconds(600)
    change(&configuration)
    return DHCPServer(configuration: configuration)
  }

  /// A client message from `mac` (client identifier 1 and the MAC, as udhcpc sends).
  static func request(
    _ type: DHCPMessageType, from mac: MACAddress, xid: UInt32 = 1,
    _ change: (inout DHCPMessage) -> Void = { _ in }
  ) -> DHCPMessage {
    var message = DHCPMessage(operation: .request, transactionID: xid, clientHardwareAddress: mac)
    message.options.messageType = type
    message.options.clientIdentifier = [1] + (0..<6).map { mac.octet($0) }
    change(&message)
    return message
  }

  static func client(_ index: UInt8) -> MACAddress { MACAddress(0x02, 0, 0, 0, 1, index) }

  /// Takes `mac` through DISCOVER and REQUEST; returns its address.
  static func lease(_ server: inout DHCPServer, _ mac: MACAddress, now: Instant = start) throws
    -> IPv4Address
  {
    let offerReply = server.receive(request(.discover, from: mac), now: now)
    let offer = try #require(offerReply)
    let address = offer.message.yourAddress
    let ackReply = server.receive(
      request(.request, from: mac) {
        $0.options.requestedAddress = address
        $0.options.serverIdentifier = ours.address
      }, now: now)
    let ack = try #require(ackReply)
    #expect(ack.message.messageType == .ack)
    return address
  }

  @Test func udhcpcDiscoverGetsAnOffer() throws {
    var server = Self.makeServer()
    let discover = C.udhcpcDiscover
    let answer = server.receive(discover.span, now: Self.start)
    let reply = try #require(answer)
    let offer = reply.message
    #expect(offer.operation == .reply)
    #expect(offer.messageType == .offer)
    #expect(offer.transactionID == 0x40af_267f)
    #expect(offer.clientHardwareAddress == Self.udhcpc)
    #expect(offer.yourAddress == Self.first)
    #expect(offer.clientAddress == .any)
    #expect(offer.options.serverIdentifier == Self.ours.address)
    #expect(offer.options.leaseTime == 600)
    #expect(offer.options.renewalTime == 300)
    #expect(offer.options.rebindingTime == 525)
    #expect(offer.options.subnetMask == IPv4Address(255, 255, 255, 0))
    #expect(offer.options.routers == [Self.ours.address])
    #expect(offer.options.domainNameServers == [IPv4Address(10, 0, 0, 53)])
    // No broadcast flag: unicast to the offered address at the client's MAC.
    #expect(reply.destination == .hardware(Self.first, Self.udhcpc))
    #expect(server.leases.count == 1 && server.leases[0].state == .offered)
    #expect(server.leases[0].hostName == Array("capture".utf8))
    // A client understands it.
    let lease = try #require(DHCPLease(ack: offer, requestedAt: Self.start))
    #expect(lease.address == IPv4CIDR(address: Self.first, prefixLength: 24))
  }

  @Test func udhcpcRequestGetsAnAck() throws {
    var server = Self.makeServer()
    let discover = C.udhcpcDiscover
    let request = C.udhcpcRequest
    _ = server.receive(discover.span, now: Self.start)
    let answer = server.receive(request.span, now: Self.start)
    let reply = try #require(answer)
    #expect(reply.message.messageType == .ack)
    #expect(reply.message.yourAddress == Self.first)
    #expect(reply.destination == .hardware(Self.first, Self.udhcpc))
    #expect(server.boundLeases.map(\.address) == [Self.first])
    #expect(server.leases[0].expiresAt == Self.start + .seconds(600))
    #expect(server.nextDeadline == Self.start + .seconds(600))
  }

  @Test func broadcastFlagGetsABroadcast() throws {
    var server = Self.makeServer()
    let answer = server.receive(
      Self.request(.discover, from: Self.client(1)) { $0.broadcast = true }, now: Self.start)
    let reply = try #require(answer)
    #expect(reply.destination == .broadcast)
    #expect(reply.message.broadcast)
  }

  @Test func addressesAreHandedOutInOrderAndKeptPerClient() throws {
    var server = Self.makeServer()
    let a = try Self.lease(&server, Self.client(1))
    let b = try Self.lease(&server, Self.client(2))
    #expect(a == IPv4Address(10, 0, 0, 135) && b == IPv4Address(10, 0, 0, 136))
    // The same client asking again gets the same address.
    let againReply = server.receive(Self.request(.discover, from: Self.client(1)), now: Self.start)
    let again = try #require(againReply)
    #expect(again.message.yourAddress == a)
    // A requested free address is honoured; a taken one is not.
    let wantedReply = server.receive(
      Self.request(.discover, from: Self.client(3)) {
        $0.options.requestedAddress = IPv4Address(10, 0, 0, 139)
      }, now: Self.start)
    let wanted = try #require(wantedReply)
    #expect(wanted.message.yourAddress == IPv4Address(10, 0, 0, 139))
    let takenReply = server.receive(
      Self.request(.discover, from: Self.client(4)) { $0.options.requestedAddress = a },
      now: Self.start)
    let taken = try #require(takenReply)
    #expect(taken.message.yourAddress == IPv4Address(10, 0, 0, 137))
  }

  @Test func serverAddressIsNeverHandedOut() throws {
    var server = DHCPServer(
      configuration: DHCPServer.Configuration(
        address: Self.ours, pool: IPv4Address(10, 0, 0, 1)...IPv4Address(10, 0, 0, 2)))
    #expect(try Self.lease(&server, Self.client(1)) == IPv4Address(10, 0, 0, 2))
    #expect(server.receive(Self.request(.discover, from: Self.client(2)), now: Self.start) == nil)
  }

  @Test func requestForAnotherServerFreesTheOffer() throws {
    var server = Self.makeServer()
    _ = server.receive(Self.request(.discover, from: Self.client(1)), now: Self.start)
    let reply = server.receive(
      Self.request(.request, from: Self.client(1)) {
        $0.options.serverIdentifier = IPv4Address(10, 0, 0, 9)
        $0.options.requestedAddress = IPv4Address(10, 0, 0, 50)
      }, now: Self.start)
    #expect(reply == nil)
    #expect(server.leases.isEmpty)
  }

  @Test func requestForAnAddressNotOfferedIsRefused() throws {
    var server = Self.makeServer()
    _ = server.receive(Self.request(.discover, from: Self.client(1)), now: Self.start)
    let answer = server.receive(
      Self.request(.request, from: Self.client(1)) {
        $0.options.serverIdentifier = Self.ours.address
        $0.options.requestedAddress = IPv4Address(10, 0, 0, 138)
      }, now: Self.start)
    let reply = try #require(answer)
    #expect(reply.message.messageType == .nak)
    #expect(reply.message.yourAddress == .any)
    #expect(reply.message.options.serverIdentifier == Self.ours.address)
    #expect(reply.destination == .broadcast)
    #expect(server.counters.naksSent == 1)
  }

  /// RFC 2131 §4.3.2, INIT-REBOOT: ACK for the client's own address; NAK for an address on
  /// another network, ours, another client's, or not the one the client holds; silence for a
  /// client the server has no record of.
  @Test func initRebootIsAckedForTheClientsOwnAddressOnly() throws {
    var server = Self.makeServer()
    let a = try Self.lease(&server, Self.client(1))
    func reboot(_ mac: MACAddress, _ address: IPv4Address) -> DHCPServerReply? {
      server.receive(
        Self.request(.request, from: mac) { $0.options.requestedAddress = address }, now: Self.start
      )
    }
    #expect(reboot(Self.client(1), a)?.message.messageType == .ack)
    #expect(reboot(Self.client(1), IPv4Address(10, 0, 0, 140))?.message.messageType == .nak)
    #expect(server.counters.requestsWrongAddress == 1)
    #expect(reboot(Self.client(3), a)?.message.messageType == .nak)
    #expect(server.counters.requestsWrongAddress == 2)
    #expect(reboot(Self.client(3), IPv4Address(192, 168, 1, 5))?.message.messageType == .nak)
    #expect(reboot(Self.client(3), Self.ours.address)?.message.messageType == .nak)
    #expect(reboot(Self.client(3), IPv4Address(10, 0, 0, 255))?.message.messageType == .nak)
    #expect(server.counters.requestsWrongNetwork == 3)
    // No record of client 3: a free address of the pool, or one outside the pool (another
    // server's, perhaps), gets no answer.
    #expect(reboot(Self.client(3), IPv4Address(10, 0, 0, 140)) == nil)
    #expect(reboot(Self.client(3), IPv4Address(10, 0, 0, 20)) == nil)
    #expect(server.counters.requestsUnknownClient == 2)
    #expect(server.leases.map(\.address) == [a])
  }

  @Test func renewalExtendsTheLeaseAndIsUnicast() throws {
    var server = Self.makeServer()
    let a = try Self.lease(&server, Self.client(1))
    let later = Self.start + .seconds(300)
    let answer = server.receive(
      Self.request(.request, from: Self.client(1)) { $0.clientAddress = a }, now: later)
    let reply = try #require(answer)
    #expect(reply.message.messageType == .ack)
    #expect(reply.message.clientAddress == a && reply.message.yourAddress == a)
    #expect(reply.destination == .client(a))
    #expect(server.leases[0].expiresAt == later + .seconds(600))
    // Renewing someone else's address is refused.
    let stolen = server.receive(
      Self.request(.request, from: Self.client(2)) { $0.clientAddress = a }, now: later)
    #expect(stolen?.message.messageType == .nak)
  }

  @Test func offersAndLeasesExpire() throws {
    var server = Self.makeServer { $0.offerTime = .seconds(30) }
    _ = server.receive(Self.request(.discover, from: Self.client(1)), now: Self.start)
    let bound = try Self.lease(&server, Self.client(2))
    #expect(server.nextDeadline == Self.start + .seconds(30))
    server.poll(now: Self.start + .seconds(30))
    #expect(server.leases.map(\.address) == [bound])
    #expect(server.nextDeadline == Self.start + .seconds(600))
    server.poll(now: Self.start + .seconds(600))
    #expect(server.leases.isEmpty && server.nextDeadline == nil)
    #expect(server.counters.leasesExpired == 1)
    // The addresses are free again.
    #expect(try Self.lease(&server, Self.client(3), now: Self.start + .seconds(601)) == Self.first)
  }

  @Test func poolExhaustionAndTheBoundedTable() throws {
    var small = Self.makeServer { $0.maximumLeases = 2 }
    #expect(small.capacity == 2)
    _ = try Self.lease(&small, Self.client(1))
    _ = try Self.lease(&small, Self.client(2))
    #expect(small.receive(Self.request(.discover, from: Self.client(3)), now: Self.start) == nil)
    #expect(small.counters.poolExhausted == 1)
    #expect(small.leases.count == 2)

    // Offers give way to new clients when the table is full; leases do not.
    var offers = Self.makeServer { $0.maximumLeases = 2 }
    for index in 1...5 as ClosedRange<UInt8> {
      #expect(
        offers.receive(Self.request(.discover, from: Self.client(index)), now: Self.start) != nil)
      #expect(offers.leases.count <= 2)
    }
    let pool = Self.makeServer()
    #expect(pool.capacity == 6)
  }

  @Test func declinedAddressesAreSetAside() throws {
    var server = Self.makeServer { $0.declineTime = .seconds(100) }
    let a = try Self.lease(&server, Self.client(1))
    let reply = server.receive(
      Self.request(.decline, from: Self.client(1)) {
        $0.options.requestedAddress = a
        $0.options.serverIdentifier = Self.ours.address
      }, now: Self.start)
    #expect(reply == nil)
    #expect(server.leases.first?.state == .declined)
    // The client starts over and gets another address; after the decline time, a is free.
    #expect(try Self.lease(&server, Self.client(1)) != a)
    server.poll(now: Self.start + .seconds(100))
    #expect(try Self.lease(&server, Self.client(2), now: Self.start + .seconds(100)) == a)
  }

  @Test func releaseFreesTheAddress() throws {
    var server = Self.makeServer()
    let a = try Self.lease(&server, Self.client(1))
    let reply = server.receive(
      Self.request(.release, from: Self.client(1)) {
        $0.clientAddress = a
        $0.options.serverIdentifier = Self.ours.address
      }, now: Self.start)
    #expect(reply == nil)
    #expect(server.leases.isEmpty)
    #expect(server.counters.releasesReceived == 1)
  }

  @Test func informGetsOptionsWithoutALease() throws {
    var server = Self.makeServer()
    let client = IPv4Address(10, 0, 0, 77)
    let answer = server.receive(
      Self.request(.inform, from: Self.client(1)) { $0.clientAddress = client }, now: Self.start)
    let reply = try #require(answer)
    #expect(reply.message.messageType == .ack)
    #expect(reply.message.yourAddress == .any)
    #expect(reply.message.options.leaseTime == nil)
    #expect(reply.message.options.routers == [Self.ours.address])
    #expect(reply.destination == .client(client))
    #expect(server.leases.isEmpty)
  }

  @Test func whatIsNotServedIsCounted() throws {
    var server = Self.makeServer()
    let offer = C.offer
    let bootReply = server.receive(offer.span, now: Self.start)
    #expect(bootReply == nil)
    let relayed = Self.request(.discover, from: Self.client(1)) {
      $0.relayAddress = IPv4Address(10, 9, 0, 1)
    }
    #expect(server.receive(relayed, now: Self.start) == nil)
    let untyped = Self.request(.discover, from: Self.client(1)) { $0.options.messageType = nil }
    #expect(server.receive(untyped, now: Self.start) == nil)
    #expect(server.counters.ignored == 3)
    let short = Array(C.offer[0..<100])
    let truncated = server.receive(short.span, now: Self.start)
    #expect(truncated == nil)
    #expect(server.counters.droppedMalformed == 1)
  }

  /// The client and the server talking to each other, messages written and parsed on the way.
  @Test func clientAndServerAgree() throws {
    var server = Self.makeServer()
    var configuration = DHCPClient.Configuration(hardwareAddress: Self.client(9))
    configuration.probeCount = 0
    var client = DHCPClient(configuration: configuration)
    var now = Self.start
    var pending = client.start(now: now)
    var bound: DHCPLease?
    for _ in 0..<10 {
      var next: [DHCPClientAction] = []
      for action in pending {
        switch action {
        case .send(let message, _):
          let request = message.encoded
          if let reply = server.receive(request.span, now: now) {
            let answer = reply.message.encoded
            next += client.receive(answer.span, now: now)
          }
        case .bound(let lease), .renewed(let lease):
          bound = lease
        default:
          break
        }
      }
      pending = next
      if pending.isEmpty {
        guard let due = client.nextDeadline else { break }
        now = due
        pending = client.poll(now: now)
      }
      if now > Self.start + .seconds(400) { break }
    }
    let lease = try #require(bound)
    #expect(lease.address == IPv4CIDR(address: Self.first, prefixLength: 24))
    #expect(lease.router == Self.ours.address)
    #expect(lease.domainNameServers == [IPv4Address(10, 0, 0, 53)])
    #expect(client.counters.renewals >= 1)
    #expect(server.boundLeases.count == 1)
  }
}
