import DHCP
import NetCore
import Testing

/// Clients that lie to the server (RFC 2131 §4.3): no single message binds an address, the
/// messages that reserve one without a lease are bounded, and nobody gives back or declines
/// another client's address. A pool of six (10.0.0.135-140), as in the issue: six made-up
/// hardware addresses used to take all of it.
struct DHCPServerHostileClientTests {
  typealias T = DHCPServerTests
  static let start = T.start
  static let ours = T.ours.address
  static let pool = (135...140 as ClosedRange<UInt8>).map { IPv4Address(10, 0, 0, $0) }

  /// A made-up hardware address, not one of `T.client`'s.
  static func liar(_ index: Int) -> MACAddress {
    MACAddress(0x02, 0xBA, 0xD0, 0, UInt8(index >> 8), UInt8(index & 0xFF))
  }

  @Test func initRebootFromMadeUpClientsBindsNothing() throws {
    var server = T.makeServer()
    for (index, address) in Self.pool.enumerated() {
      let reply = server.receive(
        T.request(.request, from: Self.liar(index)) { $0.options.requestedAddress = address },
        now: Self.start)
      #expect(reply == nil)
    }
    #expect(server.leases.isEmpty)
    #expect(server.counters.requestsUnknownClient == 6)
    #expect(server.counters.acksSent == 0 && server.counters.naksSent == 0)
    // A real client still gets the first address.
    #expect(try T.lease(&server, T.client(1)) == Self.pool[0])
  }

  @Test func renewingOrRebindingAnUnknownLeaseBindsNothing() throws {
    var server = T.makeServer()
    let a = try T.lease(&server, T.client(1))
    // RENEWING (unicast) and REBINDING (broadcast) look the same to the server: `ciaddr`.
    for (index, address) in Self.pool.dropFirst().enumerated() {
      let reply = server.receive(
        T.request(.request, from: Self.liar(index)) { $0.clientAddress = address },
        now: Self.start)
      #expect(reply == nil)
    }
    #expect(server.counters.requestsUnknownClient == 5)
    #expect(server.leases.map(\.address) == [a])
    // Someone else's lease, or an address on another network: NAK.
    let stolen = server.receive(
      T.request(.request, from: Self.liar(9)) { $0.clientAddress = a }, now: Self.start)
    #expect(stolen?.message.messageType == .nak)
    let elsewhere = server.receive(
      T.request(.request, from: Self.liar(9)) { $0.clientAddress = IPv4Address(10, 1, 0, 5) },
      now: Self.start)
    #expect(elsewhere?.message.messageType == .nak)
    #expect(server.counters.requestsWrongAddress == 1 && server.counters.requestsWrongNetwork == 1)
    #expect(server.boundLeases.map(\.hardwareAddress) == [T.client(1)])
  }

  @Test func selectingNeedsAnOfferToThatClient() throws {
    var server = T.makeServer()
    func select(_ mac: MACAddress, _ address: IPv4Address, at now: Instant) -> DHCPServerReply? {
      server.receive(
        T.request(.request, from: mac) {
          $0.options.serverIdentifier = Self.ours
          $0.options.requestedAddress = address
        }, now: now)
    }
    // No DISCOVER first: NAK, nothing bound.
    #expect(select(Self.liar(1), Self.pool[0], at: Self.start)?.message.messageType == .nak)
    #expect(server.leases.isEmpty)
    // Another client's offer: NAK, and the offer stays the other client's.
    let offerReply = server.receive(T.request(.discover, from: T.client(1)), now: Self.start)
    let offer = try #require(offerReply)
    let offered = offer.message.yourAddress
    #expect(select(Self.liar(2), offered, at: Self.start)?.message.messageType == .nak)
    #expect(server.leases.map(\.hardwareAddress) == [T.client(1)])
    // The offer ends after offerTime (10 s by default); a REQUEST after that is refused.
    #expect(server.configuration.offerTime == .seconds(10))
    #expect(
      select(T.client(1), offered, at: Self.start + .seconds(10))?.message.messageType == .nak)
    #expect(server.counters.requestsNotOffered == 3)
    #expect(server.leases.isEmpty)
  }

  @Test func aDiscoverFloodHoldsAtMostHalfThePoolAndARealClientGetsALease() throws {
    var server = T.makeServer()
    #expect(server.capacity == 6 && server.offerLimit == 3)
    for index in 0..<100 {
      let reply = server.receive(T.request(.discover, from: Self.liar(index)), now: Self.start)
      #expect(reply?.message.messageType == .offer)
      #expect(server.leases.count <= 3)
    }
    #expect(server.counters.offersReplaced == 97)
    // The newest offers are the ones kept.
    #expect(
      Set(server.leases.map(\.hardwareAddress)) == Set((97..<100).map { Self.liar($0) }))
    let address = try T.lease(&server, T.client(1))
    #expect(server.boundLeases.map(\.address) == [address])
    // The flood's offers end with their offer time.
    server.poll(now: Self.start + .seconds(10))
    #expect(server.leases.map(\.address) == [address])
  }

  @Test func whenNoAddressIsFreeTheOldestOfferMakesWay() throws {
    // Five leases and an offer fill a pool of six; a new client's DISCOVER takes the offer's
    // address instead of finding the pool exhausted.
    var server = T.makeServer()
    for index in 1...5 as ClosedRange<UInt8> { _ = try T.lease(&server, T.client(index)) }
    let firstReply = server.receive(T.request(.discover, from: Self.liar(1)), now: Self.start)
    let first = try #require(firstReply)
    let secondReply = server.receive(
      T.request(.discover, from: T.client(6)), now: Self.start + .seconds(1))
    let second = try #require(secondReply)
    #expect(second.message.yourAddress == first.message.yourAddress)
    #expect(server.counters.offersReplaced == 1 && server.counters.poolExhausted == 0)
    // With six leases, nothing is left to offer.
    let ack = server.receive(
      T.request(.request, from: T.client(6)) {
        $0.options.serverIdentifier = Self.ours
        $0.options.requestedAddress = second.message.yourAddress
      }, now: Self.start + .seconds(1))
    #expect(ack?.message.messageType == .ack)
    #expect(
      server.receive(T.request(.discover, from: Self.liar(2)), now: Self.start + .seconds(1)) == nil
    )
    #expect(server.counters.poolExhausted == 1)
  }

  @Test func onlyTheClientAnAddressWasGivenToCanDeclineIt() throws {
    var server = T.makeServer()
    let a = try T.lease(&server, T.client(1))
    func decline(_ mac: MACAddress, server identifier: IPv4Address = Self.ours) {
      let reply = server.receive(
        T.request(.decline, from: mac) {
          $0.options.requestedAddress = a
          $0.options.serverIdentifier = identifier
        }, now: Self.start)
      #expect(reply == nil)
    }
    decline(Self.liar(1))
    decline(T.client(1), server: IPv4Address(10, 0, 0, 9))
    #expect(server.counters.declinesRefused == 2)
    #expect(server.boundLeases.map(\.address) == [a])
    decline(T.client(1))
    #expect(server.leases.map(\.state) == [.declined])
  }

  @Test func declinesAreBoundedAndARealClientGetsALease() throws {
    // Each liar takes an offer and declines it: without a bound, six of them took the pool out
    // for the decline time (10 minutes).
    var server = T.makeServer()
    #expect(server.declineLimit == 1)
    for index in 0..<6 {
      let offerReply = server.receive(T.request(.discover, from: Self.liar(index)), now: Self.start)
      let offer = try #require(offerReply)
      _ = server.receive(
        T.request(.decline, from: Self.liar(index)) {
          $0.options.requestedAddress = offer.message.yourAddress
          $0.options.serverIdentifier = Self.ours
        }, now: Self.start + .milliseconds(Int64(index)))
      #expect(server.leases.filter { $0.state == .declined }.count == 1)
    }
    #expect(server.counters.declinesForgotten == 5)
    _ = try T.lease(&server, T.client(1))
    #expect(server.boundLeases.count == 1)
  }

  @Test func onlyTheHolderCanReleaseALease() throws {
    var server = T.makeServer()
    let a = try T.lease(&server, T.client(1))
    func release(
      _ mac: MACAddress, _ change: (inout DHCPMessage) -> Void = { _ in }
    ) {
      let reply = server.receive(
        T.request(.release, from: mac) {
          $0.clientAddress = a
          $0.options.serverIdentifier = Self.ours
          change(&$0)
        }, now: Self.start)
      #expect(reply == nil)
    }
    // Another hardware address (with client 1's identifier, or its own), no or another
    // server identifier, another ciaddr: the lease stays.
    release(Self.liar(1)) { $0.options.clientIdentifier = [1, 0x02, 0, 0, 0, 1, 1] }
    release(Self.liar(1))
    release(T.client(1)) { $0.options.serverIdentifier = nil }
    release(T.client(1)) { $0.options.serverIdentifier = IPv4Address(10, 0, 0, 9) }
    release(T.client(1)) { $0.clientAddress = IPv4Address(10, 0, 0, 136) }
    #expect(server.counters.releasesRefused == 5)
    #expect(server.boundLeases.map(\.address) == [a])
    release(T.client(1))
    #expect(server.leases.isEmpty)
  }

  @Test func aClientIdentifierWithAnotherHardwareAddressIsAnotherClient() throws {
    var server = T.makeServer()
    let a = try T.lease(&server, T.client(1))
    let identifier = [1, 0x02, 0, 0, 0, 1, 1] as [UInt8]
    // Renewing client 1's lease from another MAC: NAK, and the lease keeps its MAC.
    let renew = server.receive(
      T.request(.request, from: Self.liar(1)) {
        $0.options.clientIdentifier = identifier
        $0.clientAddress = a
      }, now: Self.start)
    #expect(renew?.message.messageType == .nak)
    #expect(server.counters.clientMismatches == 1)
    // A DISCOVER from there gets another address.
    let offer = server.receive(
      T.request(.discover, from: Self.liar(1)) { $0.options.clientIdentifier = identifier },
      now: Self.start)
    #expect(offer?.message.yourAddress != a)
    #expect(server.boundLeases.map(\.hardwareAddress) == [T.client(1)])
  }

  @Test func informFromAnotherNetworkIsIgnored() {
    var server = T.makeServer()
    let reply = server.receive(
      T.request(.inform, from: T.client(1)) { $0.clientAddress = IPv4Address(192, 168, 7, 7) },
      now: Self.start)
    #expect(reply == nil)
    #expect(server.counters.ignored == 1)
  }

  @Test(arguments: [(1, 1, 1), (2, 1, 1), (6, 3, 1), (21, 10, 5), (1024, 512, 256)])
  func offerAndDeclineLimitsFollowThePoolSize(size: Int, offers: Int, declines: Int) {
    let last = IPv4Address(rawValue: IPv4Address(10, 0, 4, 0).rawValue + UInt32(size) - 1)
    let server = DHCPServer(
      configuration: DHCPServer.Configuration(
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 16),
        pool: IPv4Address(10, 0, 4, 0)...last))
    #expect(server.capacity == size)
    #expect(server.offerLimit == offers && server.declineLimit == declines)
  }
}
