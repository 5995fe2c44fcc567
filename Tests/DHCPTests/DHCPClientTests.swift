import DHCP
import NetCore
import Testing

/// Every transition of the client (RFC 2131 §4.4) under a manual clock, answered with
/// dnsmasq's captured OFFER and ACK (their transaction ID replaced by the client's).
struct DHCPClientTests {
  typealias C = DnsmasqCaptures
  static let mac = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let server = IPv4Address(10, 0, 0, 1)
  static let offered = IPv4Address(10, 0, 0, 135)
  static let start = Instant(nanoseconds: 1_000_000_000)

  /// A client with udhcpc's MAC (the fixtures' `chaddr`).
  static func makeClient(_ change: (inout DHCPClient.Configuration) -> Void = { _ in })
    -> DHCPClient
  {
    var configuration = DHCPClient.Configuration(hardwareAddress: mac)
    configuration.seed = 7
    change(&configuration)
    return DHCPClient(configuration: configuration)
  }

  /// A captured message addressed to the client's current transaction.
  static func answer(_ bytes: [UInt8], to client: DHCPClient) throws -> DHCPMessage {
    var message = try DHCPMessage(parsing: bytes.span)
    message.transactionID = client.transactionID
    return message
  }

  static func nak(to client: DHCPClient) -> DHCPMessage {
    var nak = DHCPMessage(
      operation: .reply, transactionID: client.transactionID, clientHardwareAddress: mac)
    nak.options.messageType = .nak
    nak.options.serverIdentifier = server
    return nak
  }

  /// The messages among `actions`, with their destinations.
  static func sent(_ actions: [DHCPClientAction]) -> [(DHCPMessage, IPv4Address)] {
    actions.compactMap { if case .send(let message, let to) = $0 { (message, to) } else { nil } }
  }

  /// The one message `actions` send; fails otherwise.
  static func single(
    _ actions: [DHCPClientAction], sourceLocation: SourceLocation = #_sourceLocation
  )
    throws -> (DHCPMessage, IPv4Address)
  {
    let messages = sent(actions)
    try #require(messages.count == 1, sourceLocation: sourceLocation)
    return messages[0]
  }

  /// A client brought to BOUND with dnsmasq's lease (120 s, T1 60 s, T2 105 s); returns the
  /// time it bound.
  static func bound(_ client: inout DHCPClient) throws -> Instant {
    var now = start
    _ = client.start(now: now)
    _ = client.receive(try answer(C.offer, to: client), now: now)
    now += .milliseconds(10)
    let actions = client.receive(try answer(C.ack, to: client), now: now)
    #expect(actions == [.probe(offered)])
    now += client.configuration.probeInterval
    #expect(client.poll(now: now) == [.probe(offered)])
    now += client.configuration.probeWait
    let lease = try #require(client.pendingLease)
    #expect(client.poll(now: now) == [.bound(lease)])
    #expect(client.state == .bound)
    return now
  }

  // MARK: INIT, SELECTING, REQUESTING

  @Test func discoverIsBroadcastWithTheBroadcastFlag() throws {
    var client = Self.makeClient { $0.hostName = Array("netstack".utf8) }
    let (discover, to) = try Self.single(client.start(now: Self.start))
    #expect(to == .broadcast)
    #expect(client.state == .selecting)
    #expect(discover.operation == .request)
    #expect(discover.messageType == .discover)
    #expect(discover.broadcast)
    #expect(discover.clientAddress == .any)
    #expect(discover.clientHardwareAddress == Self.mac)
    #expect(discover.transactionID == client.transactionID)
    #expect(discover.options.clientIdentifier == [1, 2, 0, 0, 0, 0, 2])
    #expect(discover.options.hostName == Array("netstack".utf8))
    #expect(discover.options.parameterRequestList == [1, 3, 6, 15, 26, 51, 54, 58, 59])
    #expect(discover.options.requestedAddress == nil)
    // It parses as what it is.
    let written = discover.encoded
    #expect(try DHCPMessage(parsing: written.span) == discover)
  }

  @Test func discoverIsRetransmittedWithExponentialBackoff() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    let xid = client.transactionID
    var last = Self.start
    // 4, 8, 16, 32, 64, 64 s, each within ±1 s (RFC 2131 §4.1).
    for (expected, secs) in [(4, 4), (8, 12), (16, 28), (32, 60), (64, 124), (64, 188)] {
      let due = try #require(client.nextDeadline)
      let wait = due - last
      #expect(wait >= .seconds(Int64(expected) - 1) && wait <= .seconds(Int64(expected) + 1))
      #expect(client.poll(now: due - .milliseconds(1)).isEmpty)
      let (discover, _) = try Self.single(client.poll(now: due))
      #expect(discover.messageType == .discover)
      #expect(discover.transactionID == xid)
      #expect(abs(Int(discover.secondsElapsed) - secs) <= 6)
      last = due
    }
    #expect(client.counters.discoversSent == 7)
    #expect(client.state == .selecting)
  }

  @Test func jitterDiffersBetweenSeeds() throws {
    var waits: Set<Int64> = []
    for seed in 1...8 as ClosedRange<UInt64> {
      var client = Self.makeClient { $0.seed = seed }
      _ = client.start(now: Self.start)
      waits.insert(try #require(client.nextDeadline).nanoseconds)
    }
    #expect(waits.count > 1)
  }

  @Test func offerIsRequested() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    let offer = try Self.answer(C.offer, to: client)
    let (request, to) = try Self.single(client.receive(offer, now: Self.start))
    #expect(to == .broadcast)
    #expect(client.state == .requesting)
    #expect(request.messageType == .request)
    #expect(request.transactionID == offer.transactionID)
    #expect(request.broadcast)
    #expect(request.clientAddress == .any)
    #expect(request.options.requestedAddress == Self.offered)
    #expect(request.options.serverIdentifier == Self.server)
    // A second offer (another server) is ignored now.
    #expect(client.receive(offer, now: Self.start).isEmpty)
    #expect(client.counters.ignored == 1)
  }

  @Test func messagesForOthersAreIgnored() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    var otherTransaction = try Self.answer(C.offer, to: client)
    otherTransaction.transactionID &+= 1
    var otherClient = try Self.answer(C.offer, to: client)
    otherClient.clientHardwareAddress = MACAddress(0x02, 0, 0, 0, 0, 0x09)
    var aRequest = try Self.answer(C.offer, to: client)
    aRequest.operation = .request
    var noType = try Self.answer(C.offer, to: client)
    noType.options.messageType = nil
    var ackInSelecting = try Self.answer(C.ack, to: client)
    ackInSelecting.options.messageType = .ack
    for message in [otherTransaction, otherClient, aRequest, noType, ackInSelecting] {
      #expect(client.receive(message, now: Self.start).isEmpty)
    }
    #expect(client.counters.ignored == 5)
    #expect(client.state == .selecting)
    let garbage: [UInt8] = [1, 2, 3]
    let none = client.receive(garbage.span, now: Self.start)
    #expect(none.isEmpty)
    #expect(client.counters.droppedMalformed == 1)
  }

  @Test func ackIsProbedThenBound() throws {
    var client = Self.makeClient()
    let boundAt = try Self.bound(&client)
    let lease = try #require(client.lease)
    #expect(lease.address == IPv4CIDR(address: Self.offered, prefixLength: 24))
    #expect(lease.router == Self.server)
    #expect(lease.server == Self.server)
    // The lease counts from the REQUEST, not from the end of the probe.
    #expect(lease.obtainedAt == Self.start)
    #expect(client.nextDeadline == Self.start + .seconds(60))
    #expect(client.probingAddress == nil)
    #expect(boundAt == Self.start + .milliseconds(1510))
    #expect(client.counters.probesSent == 2)
    #expect(client.counters.leasesObtained == 1)
  }

  @Test func withoutProbesTheAckBindsAtOnce() throws {
    var client = Self.makeClient { $0.probeCount = 0 }
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    let actions = client.receive(try Self.answer(C.ack, to: client), now: Self.start)
    guard case .bound(let lease) = actions.first else {
      Issue.record("expected .bound, got \(actions)")
      return
    }
    #expect(lease.address.address == Self.offered)
    #expect(client.state == .bound)
  }

  @Test func ackFromAnotherServerOrWithoutLeaseIsNotTaken() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    var other = try Self.answer(C.ack, to: client)
    other.options.serverIdentifier = IPv4Address(10, 0, 0, 9)
    #expect(client.receive(other, now: Self.start).isEmpty)
    var noLease = try Self.answer(C.ack, to: client)
    noLease.options.leaseTime = nil
    #expect(client.receive(noLease, now: Self.start).isEmpty)
    #expect(client.counters.droppedBadLease == 1)
    #expect(client.state == .requesting)
  }

  @Test func nakInRequestingRestarts() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    #expect(client.receive(Self.nak(to: client), now: Self.start).isEmpty)
    #expect(client.state == .initial)
    #expect(client.counters.naksReceived == 1)
    let due = Self.start + client.configuration.restartDelay
    #expect(client.nextDeadline == due)
    #expect(client.poll(now: due - .milliseconds(1)).isEmpty)
    let (discover, _) = try Self.single(client.poll(now: due))
    #expect(discover.messageType == .discover)
    #expect(client.state == .selecting)
  }

  @Test func silentServerInRequestingRestarts() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    var requests = 1
    var polls = 0
    while client.state == .requesting && polls < 100 {
      polls += 1
      let due = try #require(client.nextDeadline)
      let messages = Self.sent(client.poll(now: due))
      requests += messages.filter { $0.0.messageType == .request }.count
    }
    #expect(requests == client.configuration.requestAttempts)
    #expect(client.state == .initial)
  }

  // MARK: Probing

  @Test func conflictWhileProbingDeclines() throws {
    var client = Self.makeClient()
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    _ = client.receive(try Self.answer(C.ack, to: client), now: Self.start)
    #expect(client.probingAddress == Self.offered)
    // A claim of another address changes nothing.
    #expect(client.addressClaimed(IPv4Address(10, 0, 0, 7), now: Self.start).isEmpty)
    let actions = client.addressClaimed(Self.offered, now: Self.start)
    let (decline, to) = try Self.single(actions)
    #expect(actions.last == .declined(Self.offered))
    #expect(to == .broadcast)
    #expect(decline.messageType == .decline)
    #expect(decline.options.requestedAddress == Self.offered)
    #expect(decline.options.serverIdentifier == Self.server)
    #expect(decline.clientAddress == .any)
    #expect(client.state == .initial)
    #expect(client.lease == nil && client.probingAddress == nil)
    // At least 10 s before the next DISCOVER (RFC 2131 §3.1.5).
    #expect(client.nextDeadline == Self.start + .seconds(10))
    let (discover, _) = try Self.single(client.poll(now: Self.start + .seconds(10)))
    #expect(discover.messageType == .discover)
    #expect(client.counters.addressConflicts == 1 && client.counters.declinesSent == 1)
  }

  @Test func claimsAfterBindingAreNotConflicts() throws {
    var client = Self.makeClient()
    let now = try Self.bound(&client)
    #expect(client.addressClaimed(Self.offered, now: now).isEmpty)
    #expect(client.state == .bound)
  }

  // MARK: BOUND, RENEWING, REBINDING

  @Test func renewsAtT1ByUnicast() throws {
    var client = Self.makeClient()
    let boundAt = try Self.bound(&client)
    #expect(client.poll(now: boundAt).isEmpty)
    let t1 = Self.start + .seconds(60)
    #expect(client.poll(now: t1 - .milliseconds(1)).isEmpty)
    let (request, to) = try Self.single(client.poll(now: t1))
    #expect(client.state == .renewing)
    #expect(to == Self.server)
    #expect(request.messageType == .request)
    #expect(request.clientAddress == Self.offered)
    #expect(!request.broadcast)
    #expect(request.options.requestedAddress == nil)
    #expect(request.options.serverIdentifier == nil)
    // The ACK extends the lease from the renewal's REQUEST.
    let renewedAt = t1 + .milliseconds(5)
    let actions = client.receive(try Self.answer(C.ack, to: client), now: renewedAt)
    let lease = try #require(client.lease)
    #expect(actions == [.renewed(lease)])
    #expect(client.state == .bound)
    #expect(lease.obtainedAt == t1)
    #expect(client.nextDeadline == t1 + .seconds(60))
    #expect(client.counters.renewals == 1)
  }

  @Test func renewalThatChangesTheRouterReconfigures() throws {
    var client = Self.makeClient()
    _ = try Self.bound(&client)
    let t1 = Self.start + .seconds(60)
    _ = client.poll(now: t1)
    var ack = try Self.answer(C.ack, to: client)
    ack.options.routers = [IPv4Address(10, 0, 0, 254)]
    let actions = client.receive(ack, now: t1)
    let lease = try #require(client.lease)
    #expect(actions == [.bound(lease)])
    #expect(lease.router == IPv4Address(10, 0, 0, 254))
  }

  @Test func renewingRetransmitsThenRebindsAtT2ByBroadcast() throws {
    var client = Self.makeClient { $0.minimumRenewalRetransmit = .seconds(10) }
    _ = try Self.bound(&client)
    let t1 = Self.start + .seconds(60)
    let t2 = Self.start + .seconds(105)
    _ = client.poll(now: t1)
    // Half the time left to T2 (22.5 s), but at least 10 s (RFC 2131 §4.4.5).
    #expect(client.nextDeadline == t1 + .milliseconds(22_500))
    var renewals: [Instant] = []
    var polls = 0
    while client.state == .renewing && polls < 100 {
      polls += 1
      let due = try #require(client.nextDeadline)
      let (request, to) = try Self.single(client.poll(now: due))
      if client.state == .renewing {
        #expect(to == Self.server && request.clientAddress == Self.offered)
        renewals.append(due)
      } else {
        // T2: REBINDING, broadcast, still `ciaddr`, no server identifier.
        #expect(due == t2)
        #expect(to == .broadcast)
        #expect(request.clientAddress == Self.offered)
        #expect(request.options.serverIdentifier == nil && request.options.requestedAddress == nil)
      }
    }
    #expect(
      renewals == [
        t1 + .milliseconds(22_500), t1 + .milliseconds(33_750), t1 + .milliseconds(43_750),
      ])
    #expect(client.state == .rebinding)
    // Half the time left to the end of the lease (7.5 s), but at least 10 s.
    #expect(client.nextDeadline == t2 + .seconds(10))
    // Any server may answer now.
    let actions = client.receive(try Self.answer(C.ack, to: client), now: t2)
    #expect(actions == [.renewed(try #require(client.lease))])
    #expect(client.state == .bound)
  }

  @Test func leaseExpiresWithoutAnswers() throws {
    var client = Self.makeClient()
    _ = try Self.bound(&client)
    var now = Self.start + .seconds(60)
    var lost: [DHCPClientAction] = []
    var polls = 0
    while lost.isEmpty && polls < 100 {
      polls += 1
      now = try #require(client.nextDeadline)
      let actions = client.poll(now: now)
      lost = actions.filter { if case .lost = $0 { true } else { false } }
      if !lost.isEmpty {
        // Withdrawn, then a new DISCOVER at once.
        let (discover, _) = try Self.single(actions)
        #expect(discover.messageType == .discover)
      }
    }
    #expect(now == Self.start + .seconds(120))
    #expect(client.lease == nil)
    #expect(client.state == .selecting)
    #expect(client.counters.leasesLost == 1)
  }

  @Test func nakWhileRenewingWithdrawsTheAddress() throws {
    var client = Self.makeClient()
    _ = try Self.bound(&client)
    let t1 = Self.start + .seconds(60)
    _ = client.poll(now: t1)
    let lease = try #require(client.lease)
    #expect(client.receive(Self.nak(to: client), now: t1) == [.lost(lease)])
    #expect(client.lease == nil)
    #expect(client.state == .initial)
    #expect(client.counters.leasesLost == 1)
  }

  @Test func renewalWithAnotherAddressProbesIt() throws {
    var client = Self.makeClient()
    _ = try Self.bound(&client)
    let t1 = Self.start + .seconds(60)
    _ = client.poll(now: t1)
    let old = try #require(client.lease)
    var ack = try Self.answer(C.ack, to: client)
    ack.yourAddress = IPv4Address(10, 0, 0, 136)
    #expect(client.receive(ack, now: t1) == [.lost(old), .probe(IPv4Address(10, 0, 0, 136))])
    #expect(client.state == .probing)
  }

  @Test func infiniteLeaseHasNoTimers() throws {
    var client = Self.makeClient { $0.probeCount = 0 }
    _ = client.start(now: Self.start)
    _ = client.receive(try Self.answer(C.offer, to: client), now: Self.start)
    var ack = try Self.answer(C.ack, to: client)
    ack.options.leaseTime = .max
    _ = client.receive(ack, now: Self.start)
    #expect(client.state == .bound)
    #expect(client.nextDeadline == nil)
    #expect(client.poll(now: Self.start + .seconds(1_000_000)).isEmpty)
  }

  // MARK: INIT-REBOOT, release

  @Test func initRebootRequestsTheRememberedAddress() throws {
    var client = Self.makeClient { $0.rememberedAddress = Self.offered }
    let (request, to) = try Self.single(client.start(now: Self.start))
    #expect(to == .broadcast)
    #expect(client.state == .rebooting)
    #expect(request.messageType == .request)
    #expect(request.options.requestedAddress == Self.offered)
    #expect(request.options.serverIdentifier == nil)
    #expect(request.clientAddress == .any)
    #expect(
      client.receive(try Self.answer(C.ack, to: client), now: Self.start) == [.probe(Self.offered)])
    #expect(client.state == .probing)
  }

  @Test func initRebootNakOrSilenceFallsBackToInit() throws {
    var refused = Self.makeClient { $0.rememberedAddress = Self.offered }
    _ = refused.start(now: Self.start)
    #expect(refused.receive(Self.nak(to: refused), now: Self.start).isEmpty)
    #expect(refused.state == .initial)

    var unanswered = Self.makeClient { $0.rememberedAddress = Self.offered }
    _ = unanswered.start(now: Self.start)
    let second = try #require(unanswered.nextDeadline)
    #expect(Self.sent(unanswered.poll(now: second)).first?.0.messageType == .request)
    let third = try #require(unanswered.nextDeadline)
    let (discover, _) = try Self.single(unanswered.poll(now: third))
    #expect(discover.messageType == .discover)
    #expect(unanswered.state == .selecting)
  }

  @Test func releaseGivesTheLeaseBack() throws {
    var client = Self.makeClient()
    let now = try Self.bound(&client)
    let lease = try #require(client.lease)
    let actions = client.release(now: now)
    let (release, to) = try Self.single(actions)
    #expect(actions.last == .released(lease))
    #expect(to == Self.server)
    #expect(release.messageType == .release)
    #expect(release.clientAddress == Self.offered)
    #expect(release.options.serverIdentifier == Self.server)
    #expect(client.state == .stopped)
    #expect(client.nextDeadline == nil)
    #expect(client.counters.leasesLost == 0 && client.counters.releasesSent == 1)
    // Without a lease there is nothing to send.
    var idle = Self.makeClient()
    _ = idle.start(now: Self.start)
    #expect(idle.release(now: Self.start).isEmpty)
    #expect(idle.state == .stopped)
  }
}
