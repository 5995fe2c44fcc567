import DNS
import NetCore
import Testing

/// The forwarder with guests over UDP: ids, matching, timeouts, the next server, truncation.
struct DNSForwarderUDPTests {
  typealias F = ForwarderFixture
  let now = F.start

  @Test func aQueryGoesUpstreamWithAFreshIDAndComesBackWithTheGuests() throws {
    var forwarder = F.forwarder()
    let query = DnsmasqDNSCaptures.plainQuery
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    #expect(sent.server == F.first)
    #expect(sent.message[2...] == query[2...])
    #expect(forwarder.pendingCount == 1 && forwarder.nextDeadline == now + .seconds(5))
    let answer = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.plainAnswer)
    let actions = forwarder.receiveUpstreamUDP(
      answer.span, socket: sent.socket, from: F.first, now: now + .milliseconds(3))
    #expect(closed(actions) == [sent.socket])
    #expect(udpAnswers(actions) == [DnsmasqDNSCaptures.plainAnswer])
    #expect(actions.count == 2)
    #expect(forwarder.pendingCount == 0 && forwarder.nextDeadline == nil)
    #expect(forwarder.counters.queriesUDP == 1 && forwarder.counters.answers == 1)
    #expect(forwarder.counters.upstreamUDPQueries == 1)
  }

  @Test func everyQueryHasItsOwnSocketAndARandomID() throws {
    var forwarder = F.forwarder()
    var sockets: Set<DNSUpstreamSocket> = []
    var ids: Set<UInt16> = []
    for index in 0..<200 {
      let guest = DNSEndpoint(F.guest.address, UInt16(30000 + index))
      let query = F.query("www.test", id: 7)
      let sent = try #require(
        udpSend(forwarder.receiveGuestUDP(query.span, from: guest, to: F.local, now: now)))
      sockets.insert(sent.socket)
      ids.insert(F.id(of: sent.message))
    }
    #expect(sockets.count == 200)
    // 200 draws of 16 bits: a handful of collisions at most, never one id for all.
    #expect(ids.count > 190)
  }

  @Test func spoofedAndStrayAnswersAreCountedAndDroppedAndTheRealOneStillArrives() throws {
    var forwarder = F.forwarder()
    let query = DnsmasqDNSCaptures.ednsQuery
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let id = F.id(of: sent.message)
    let real = F.with(id: id, DnsmasqDNSCaptures.ednsAnswer)
    let otherQuestion = F.with(id: id, DnsmasqDNSCaptures.aaaaAnswer)
    var notAResponse = real
    notAResponse[2] &= 0x7F
    var notAQuery = real
    notAQuery[2] |= 0x10  // opcode 2
    let strays: [(bytes: [UInt8], socket: DNSUpstreamSocket, from: DNSEndpoint)] = [
      (F.with(id: id &+ 1, DnsmasqDNSCaptures.ednsAnswer), sent.socket, F.first),  // wrong id
      (real, sent.socket, DNSEndpoint(F.first.address, 5353)),  // wrong port
      (real, sent.socket, F.second),  // wrong server
      (real, DNSUpstreamSocket(rawValue: 999), F.first),  // no such socket
      (otherQuestion, sent.socket, F.first),  // another question
      (notAResponse, sent.socket, F.first),
      (notAQuery, sent.socket, F.first),
      (Array(real[..<20]), sent.socket, F.first),  // malformed
      (real + [UInt8](repeating: 0, count: 4097 - real.count), sent.socket, F.first),  // too large
    ]
    for (index, stray) in strays.enumerated() {
      let actions = forwarder.receiveUpstreamUDP(
        stray.bytes.span, socket: stray.socket, from: stray.from, now: now)
      #expect(actions.isEmpty, "stray \(index)")
      #expect(forwarder.counters.mismatchedAnswersDropped == UInt64(index + 1))
    }
    #expect(forwarder.pendingCount == 1)
    let actions = forwarder.receiveUpstreamUDP(
      real.span, socket: sent.socket, from: F.first, now: now)
    #expect(udpAnswers(actions) == [DnsmasqDNSCaptures.ednsAnswer])
    // The question matches whatever the case of its letters.
    var forwarder2 = F.forwarder()
    let sent2 = try #require(
      udpSend(forwarder2.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    var upper = F.with(id: F.id(of: sent2.message), DnsmasqDNSCaptures.ednsAnswer)
    upper[13] = 0x57  // "Www"
    #expect(
      udpAnswers(
        forwarder2.receiveUpstreamUDP(upper.span, socket: sent2.socket, from: F.first, now: now)
      ).count == 1)
  }

  @Test func aTimeoutMovesToTheNextServerAndAfterTheLastRoundTheGuestGetsSERVFAIL() throws {
    var forwarder = F.forwarder()
    let query = DnsmasqDNSCaptures.ednsQuery
    var sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    var sockets = [sent.socket]
    var ids = [F.id(of: sent.message)]
    #expect(forwarder.poll(now: now + .milliseconds(4999)).isEmpty)
    // Two rounds over two servers: first, second, first, second.
    for (round, server) in [F.second, F.first, F.second].enumerated() {
      let at = now + .seconds(5 * Int64(round + 1))
      #expect(forwarder.nextDeadline == at)
      let actions = forwarder.poll(now: at)
      #expect(closed(actions) == [sent.socket])
      sent = try #require(udpSend(actions))
      #expect(sent.server == server)
      #expect(!sockets.contains(sent.socket))
      sockets.append(sent.socket)
      ids.append(F.id(of: sent.message))
    }
    #expect(Set(ids).count == 4)
    // A late answer to the first try is not taken.
    let late = F.with(id: ids[0], DnsmasqDNSCaptures.ednsAnswer)
    #expect(
      forwarder.receiveUpstreamUDP(
        late.span, socket: sockets[0], from: F.first, now: now + .seconds(19)
      ).isEmpty)
    let actions = forwarder.poll(now: now + .seconds(20))
    #expect(closed(actions) == [sent.socket])
    let answers = udpAnswers(actions)
    #expect(answers.count == 1)
    let failure = try parse(answers[0])
    #expect(failure.header.id == F.id(of: query) && failure.header.responseCode == .serverFailure)
    #expect(failure.question == (try parse(query)).question)
    #expect(failure.edns != nil)
    #expect(forwarder.counters.timeouts == 4 && forwarder.counters.servfailsSent == 1)
    #expect(forwarder.pendingCount == 0 && forwarder.nextDeadline == nil)
  }

  @Test func resolvConfsTimeoutAndAttemptsApplyToNewQueries() throws {
    var forwarder = F.forwarder()
    let query = F.query("www.test", id: 1)
    _ = forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)
    forwarder.setServers([F.second], timeout: .seconds(2), attempts: 1)
    let other = DNSEndpoint(F.guest.address, 1234)
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: other, to: F.local, now: now)))
    #expect(sent.server == F.second)
    #expect(forwarder.nextDeadline == now + .seconds(2))
    // One server, one attempt: SERVFAIL at 2 s; the first query still goes on to the second
    // server at 5 s.
    let atTwo = forwarder.poll(now: now + .seconds(2))
    #expect(atTwo.count == 2 && closed(atTwo) == [sent.socket])
    let failures = atTwo.compactMap { action -> [UInt8]? in
      if case .guest(.answerUDP(_, let to, let message)) = action, to == other { return message }
      return nil
    }
    #expect(failures.count == 1)
    #expect(try parse(failures[0]).header.responseCode == .serverFailure)
    #expect(udpSend(forwarder.poll(now: now + .seconds(5)))?.server == F.second)
  }

  @Test func aFailedSendGoesToTheNextServerAtOnce() throws {
    var forwarder = F.forwarder()
    let query = F.query("www.test", id: 1)
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let actions = forwarder.upstreamFailed(socket: sent.socket, now: now + .milliseconds(1))
    #expect(closed(actions) == [sent.socket])
    #expect(udpSend(actions)?.server == F.second)
    #expect(forwarder.counters.upstreamFailures == 1)
    // A failure reported for a socket that is no longer in use changes nothing.
    #expect(forwarder.upstreamFailed(socket: sent.socket, now: now).isEmpty)
    #expect(forwarder.counters.upstreamFailures == 1)
  }

  @Test func serverErrorsGoToTheNextServerButTheLastOneIsPassedOn() throws {
    var forwarder = F.forwarder { $0.attempts = 1 }
    let query = F.query("www.test", id: 9)
    var sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let servfail = F.response(to: sent.message, code: .serverFailure)
    var actions = forwarder.receiveUpstreamUDP(
      servfail.span, socket: sent.socket, from: F.first, now: now)
    sent = try #require(udpSend(actions))
    #expect(sent.server == F.second && forwarder.counters.serverErrorsRetried == 1)
    let refused = F.response(to: sent.message, code: .refused)
    actions = forwarder.receiveUpstreamUDP(
      refused.span, socket: sent.socket, from: F.second, now: now)
    #expect(udpAnswers(actions) == [F.with(id: 9, refused)])
    #expect(forwarder.counters.answers == 1)
  }

  @Test func aTruncatedAnswerIsAskedAgainOverTCPOfTheSameServer() throws {
    var forwarder = F.forwarder()
    // The guest offers 1232 bytes with EDNS: the 677-byte answer over TCP fits.
    let query = F.query("big.test", id: 0x4242, edns: 1232)
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let truncated = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.bigTruncatedAnswer)
    let actions = forwarder.receiveUpstreamUDP(
      truncated.span, socket: sent.socket, from: F.first, now: now + .milliseconds(2))
    #expect(closed(actions) == [sent.socket])
    let opened = try #require(tcpOpen(actions))
    #expect(opened.server == F.first && opened.socket != sent.socket)
    #expect(opened.message[2...] == query[2...])
    #expect(forwarder.counters.truncatedRetries == 1 && forwarder.upstreamTCPCount == 1)
    #expect(forwarder.nextDeadline == now + .milliseconds(2) + .seconds(5))
    // The whole answer, a byte at a time.
    let whole = try #require(
      DNSStreamFramer.framed(F.with(id: F.id(of: opened.message), DnsmasqDNSCaptures.bigTCPAnswer)))
    var answers: [[UInt8]] = []
    for byte in whole {
      let piece = [byte]
      let step = forwarder.receiveUpstreamTCP(piece.span, socket: opened.socket, now: now)
      answers += udpAnswers(step)
      if !step.isEmpty { #expect(closed(step) == [opened.socket]) }
    }
    #expect(answers == [F.with(id: 0x4242, DnsmasqDNSCaptures.bigTCPAnswer)])
    #expect(forwarder.upstreamTCPCount == 0 && forwarder.pendingCount == 0)
  }

  @Test func anAnswerLargerThanTheGuestTakesOverUDPBecomesATruncatedResponse() throws {
    var forwarder = F.forwarder()
    let query = DnsmasqDNSCaptures.bigQuery  // no EDNS: 512 bytes at most
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let truncated = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.bigTruncatedAnswer)
    let opened = try #require(
      tcpOpen(
        forwarder.receiveUpstreamUDP(truncated.span, socket: sent.socket, from: F.first, now: now)))
    let whole = try #require(
      DNSStreamFramer.framed(F.with(id: F.id(of: opened.message), DnsmasqDNSCaptures.bigTCPAnswer)))
    let answers = udpAnswers(
      forwarder.receiveUpstreamTCP(whole.span, socket: opened.socket, now: now))
    #expect(answers.count == 1)
    let stand = try parse(answers[0])
    #expect(stand.header.isTruncated && stand.header.id == F.id(of: query))
    #expect(stand.header.answerCount == 0 && stand.edns == nil)
    #expect(stand.question?.name.description == "big.test.")
    #expect(forwarder.counters.answersTruncatedForGuest == 1)
  }

  @Test func whenNoTCPConnectionIsFreeATruncatedAnswerIsPassedOnAsItIs() throws {
    var forwarder = F.forwarder { $0.maximumUpstreamTCP = 1 }
    // A TCP guest holds the only upstream TCP connection.
    let tcpQuery = try #require(DNSStreamFramer.framed(F.query("www.test", id: 1)))
    #expect(
      tcpOpen(
        forwarder.receiveGuestTCP(
          tcpQuery.span, connection: DNSGuestConnection(rawValue: 1), now: now)) != nil)
    let query = DnsmasqDNSCaptures.bigQuery
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    let truncated = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.bigTruncatedAnswer)
    let actions = forwarder.receiveUpstreamUDP(
      truncated.span, socket: sent.socket, from: F.first, now: now)
    #expect(
      udpAnswers(actions) == [F.with(id: F.id(of: query), DnsmasqDNSCaptures.bigTruncatedAnswer)])
    #expect(forwarder.counters.upstreamTCPLimited == 1)
  }

  @Test func whatTheForwarderAnswersItself() throws {
    var forwarder = F.forwarder()
    func answer(_ query: [UInt8]) -> DNSResponseCode? {
      let answers = udpAnswers(
        forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now))
      guard answers.count == 1, let message = try? parse(answers[0]) else { return nil }
      #expect(message.header.id == F.id(of: query))
      return message.header.responseCode
    }
    var notify = F.query("www.test", id: 1)
    notify[2] = notify[2] & 0x87 | 4 << 3
    #expect(answer(notify) == .notImplemented)
    var twoQuestions = F.query("www.test", id: 2) + [1, 0x61, 0, 0, 1, 0, 1]
    twoQuestions[5] = 2
    #expect(answer(twoQuestions) == .formatError)
    var noQuestion = F.query("www.test", id: 3)
    noQuestion[5] = 0
    #expect(answer(noQuestion) == .formatError)
    #expect(answer(F.query("test", .axfr, id: 4)) == .refused)
    #expect(answer(F.query("test", .ixfr, id: 5)) == .refused)
    let garbage: [UInt8] = [0, 6, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0, 1, 0, 1]
    #expect(answer(garbage) == .formatError)
    #expect(forwarder.counters.notimpsSent == 1 && forwarder.counters.formerrsSent == 3)
    #expect(forwarder.counters.refusedSent == 2 && forwarder.pendingCount == 0)
  }

  @Test func whatIsDroppedUnanswered() throws {
    var forwarder = F.forwarder()
    func dropped(_ bytes: [UInt8]) -> Bool {
      forwarder.receiveGuestUDP(bytes.span, from: F.guest, to: F.local, now: now).isEmpty
    }
    #expect(dropped([]) && dropped([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
    #expect(dropped(DnsmasqDNSCaptures.ednsAnswer))  // a response: never answered
    #expect(forwarder.counters.droppedMalformed == 3)
    // Over 512 bytes without EDNS; over 4096 with.
    var long = F.query("www.test", id: 1) + [UInt8](repeating: 0, count: 500)
    #expect(dropped(long))
    long = F.query("www.test", id: 1, edns: 4096) + [UInt8](repeating: 0, count: 4070)
    #expect(long.count > 4096 && dropped(long))
    #expect(forwarder.counters.droppedOversized == 2)
    let fits = F.query("www.test", id: 1, edns: 4096) + [UInt8](repeating: 0, count: 600)
    #expect(
      udpSend(forwarder.receiveGuestUDP(fits.span, from: F.guest, to: F.local, now: now)) != nil)
    // The guest asks again while the first is on its way: one upstream query.
    #expect(dropped(fits))
    #expect(forwarder.counters.droppedDuplicate == 1 && forwarder.pendingCount == 1)
    // The same id for another question is another query.
    let other = F.query("other.test", id: 1)
    #expect(
      udpSend(forwarder.receiveGuestUDP(other.span, from: F.guest, to: F.local, now: now)) != nil)
    #expect(forwarder.counters.queriesUDP == 3)
  }

  @Test func withoutNameServersEveryQueryGetsSERVFAIL() throws {
    var forwarder = F.forwarder(servers: [])
    let query = DnsmasqDNSCaptures.ednsQuery
    let answers = udpAnswers(
      forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now))
    #expect(answers.count == 1)
    let failure = try parse(answers[0])
    #expect(failure.header.responseCode == .serverFailure && failure.header.id == F.id(of: query))
    #expect(forwarder.counters.noServers == 1 && forwarder.counters.servfailsSent == 1)
  }

  @Test func queriesBeyondThePendingLimitGetSERVFAIL() throws {
    var forwarder = F.forwarder { $0.maximumPendingQueries = 3 }
    for port in 1...3 {
      let sent = udpSend(
        forwarder.receiveGuestUDP(
          F.query("www.test", id: 1).span, from: DNSEndpoint(F.guest.address, UInt16(port)),
          to: F.local, now: now))
      #expect(sent != nil)
    }
    let actions = forwarder.receiveGuestUDP(
      F.query("www.test", id: 1).span, from: F.guest, to: F.local, now: now)
    let answers = udpAnswers(actions)
    #expect(actions.count == 1 && answers.count == 1)
    #expect(try parse(answers[0]).header.responseCode == .serverFailure)
    #expect(forwarder.counters.pendingOverflows == 1 && forwarder.pendingCount == 3)
    #expect(DNSForwarderConfiguration().maximumPendingQueries == 1024)
  }
}
