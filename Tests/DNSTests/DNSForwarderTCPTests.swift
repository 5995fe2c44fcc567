import DNS
import NetCore
import Testing

/// The forwarder with guests over TCP (RFC 7766): framing, pipelining, bounds, idle and closing.
struct DNSForwarderTCPTests {
  typealias F = ForwarderFixture
  let now = F.start
  let connection = DNSGuestConnection(rawValue: 77)

  private func framed(_ message: [UInt8]) -> [UInt8] { DNSStreamFramer.framed(message)! }

  @Test func aTCPQueryGoesUpstreamOverTCPAndItsAnswerComesBackFramed() throws {
    var forwarder = F.forwarder()
    #expect(forwarder.guestConnectionOpened(connection, now: now).isEmpty)
    let stream = framed(DnsmasqDNSCaptures.bigTCPQuery)
    let firstHalf = Array(stream[..<10])
    let secondHalf = Array(stream[10...])
    #expect(forwarder.receiveGuestTCP(firstHalf.span, connection: connection, now: now).isEmpty)
    let opened = try #require(
      tcpOpen(forwarder.receiveGuestTCP(secondHalf.span, connection: connection, now: now)))
    #expect(
      opened.server == F.first && opened.message[2...] == DnsmasqDNSCaptures.bigTCPQuery[2...])
    #expect(forwarder.counters.queriesTCP == 1 && forwarder.counters.upstreamTCPQueries == 1)
    let answer = framed(F.with(id: F.id(of: opened.message), DnsmasqDNSCaptures.bigTCPAnswer))
    let actions = forwarder.receiveUpstreamTCP(answer.span, socket: opened.socket, now: now)
    #expect(closed(actions) == [opened.socket])
    #expect(tcpAnswers(actions, connection) == [DnsmasqDNSCaptures.bigTCPAnswer])
    #expect(forwarder.upstreamTCPCount == 0)
    // The connection stays open, idle, until its idle timeout.
    #expect(forwarder.guestConnectionCount == 1)
    #expect(forwarder.nextDeadline == now + .seconds(10))
  }

  @Test func pipelinedQueriesAreAnsweredEachWithItsID() throws {
    var forwarder = F.forwarder()
    let one = F.query("a.test", id: 1)
    let two = F.query("b.test", id: 2)
    let stream = framed(one) + framed(two)
    let actions = forwarder.receiveGuestTCP(stream.span, connection: connection, now: now)
    let opens = actions.compactMap { action -> (DNSUpstreamSocket, [UInt8])? in
      if case .upstream(.openTCP(let socket, _, let bytes)) = action {
        return (socket, Array(bytes[2...]))
      }
      return nil
    }
    #expect(opens.count == 2)
    // Answered in the other order.
    for (socket, message) in opens.reversed() {
      let answer = framed(F.response(to: message, code: .nameError))
      let answers = tcpAnswers(
        forwarder.receiveUpstreamTCP(answer.span, socket: socket, now: now), connection)
      #expect(answers.count == 1)
      let parsed = try parse(answers[0])
      #expect(parsed.header.responseCode == .nameError)
      #expect(parsed.header.id == (parsed.question?.name.description == "a.test." ? 1 : 2))
    }
    #expect(forwarder.counters.answers == 2)
  }

  @Test func aMismatchedMessageOnTheUpstreamStreamEndsThatTry() throws {
    var forwarder = F.forwarder()
    let query = framed(F.query("www.test", id: 5))
    let opened = try #require(
      tcpOpen(forwarder.receiveGuestTCP(query.span, connection: connection, now: now)))
    let wrong = framed(
      F.response(to: F.with(id: F.id(of: opened.message) &+ 1, opened.message), code: .noError))
    let actions = forwarder.receiveUpstreamTCP(wrong.span, socket: opened.socket, now: now)
    #expect(closed(actions) == [opened.socket])
    #expect(tcpOpen(actions)?.server == F.second)
    #expect(forwarder.counters.mismatchedAnswersDropped == 1)
    // A bad length prefix from the server too.
    let next = try #require(tcpOpen(actions))
    let zero: [UInt8] = [0, 0]
    #expect(
      tcpOpen(forwarder.receiveUpstreamTCP(zero.span, socket: next.socket, now: now))?.server
        == F.first)
    #expect(forwarder.counters.mismatchedAnswersDropped == 2)
    // The server closing before the answer (the driver reports a failure).
    #expect(forwarder.upstreamTCPCount == 1)
  }

  @Test func aBadLengthPrefixClosesTheGuestConnection() {
    var forwarder = F.forwarder()
    let zero: [UInt8] = [0, 0]
    #expect(
      forwarder.receiveGuestTCP(zero.span, connection: connection, now: now) == [
        .guest(.closeConnection(connection))
      ])
    #expect(forwarder.counters.guestStreamErrors == 1 && forwarder.guestConnectionCount == 0)
  }

  @Test func queriesBeyondTheConnectionsLimitGetSERVFAIL() throws {
    var forwarder = F.forwarder()
    let limit = DNSForwarderConfiguration().maximumQueriesPerConnection
    #expect(limit == 16)
    var stream: [UInt8] = []
    for id in 0...UInt16(limit) { stream += framed(F.query("q\(id).test", id: id)) }
    let actions = forwarder.receiveGuestTCP(stream.span, connection: connection, now: now)
    let opens = actions.filter { if case .upstream(.openTCP) = $0 { true } else { false } }
    #expect(opens.count == limit)
    let answers = tcpAnswers(actions, connection)
    #expect(answers.count == 1)
    let refusal = try parse(answers[0])
    #expect(refusal.header.id == UInt16(limit) && refusal.header.responseCode == .serverFailure)
    #expect(forwarder.counters.connectionQueryOverflows == 1)
  }

  @Test func upstreamTCPConnectionsAreBounded() throws {
    var forwarder = F.forwarder { $0.maximumUpstreamTCP = 2 }
    let stream =
      framed(F.query("a.test", id: 1)) + framed(F.query("b.test", id: 2))
      + framed(F.query("c.test", id: 3))
    let actions = forwarder.receiveGuestTCP(stream.span, connection: connection, now: now)
    #expect(actions.filter { if case .upstream(.openTCP) = $0 { true } else { false } }.count == 2)
    let answers = tcpAnswers(actions, connection)
    #expect(answers.count == 1)
    #expect(try parse(answers[0]).header.id == 3)
    #expect(forwarder.counters.upstreamTCPLimited == 1 && forwarder.upstreamTCPCount == 2)
  }

  @Test func guestConnectionsAreBounded() {
    var forwarder = F.forwarder { $0.maximumGuestConnections = 2 }
    #expect(forwarder.guestConnectionOpened(DNSGuestConnection(rawValue: 1), now: now).isEmpty)
    #expect(forwarder.guestConnectionOpened(DNSGuestConnection(rawValue: 2), now: now).isEmpty)
    let third = DNSGuestConnection(rawValue: 3)
    #expect(forwarder.guestConnectionOpened(third, now: now) == [.guest(.closeConnection(third))])
    let bytes: [UInt8] = [0, 12]
    #expect(
      forwarder.receiveGuestTCP(bytes.span, connection: third, now: now) == [
        .guest(.closeConnection(third))
      ])
    #expect(forwarder.counters.guestConnectionsRefused == 2 && forwarder.guestConnectionCount == 2)
  }

  @Test func anIdleConnectionIsClosedButNotOneWithAQueryWaiting() throws {
    var forwarder = F.forwarder { $0.guestConnectionIdleTimeout = .seconds(3) }
    let idle = DNSGuestConnection(rawValue: 1)
    _ = forwarder.guestConnectionOpened(idle, now: now)
    // Half a query does not keep it open.
    let half: [UInt8] = [0, 30, 1, 2, 3]
    _ = forwarder.receiveGuestTCP(half.span, connection: idle, now: now + .seconds(1))
    let busy = DNSGuestConnection(rawValue: 2)
    let query = framed(F.query("www.test", id: 1))
    let opened = try #require(
      tcpOpen(forwarder.receiveGuestTCP(query.span, connection: busy, now: now)))
    #expect(forwarder.nextDeadline == now + .seconds(3))
    #expect(forwarder.poll(now: now + .seconds(3)) == [.guest(.closeConnection(idle))])
    #expect(forwarder.counters.guestConnectionsTimedOut == 1)
    // The busy one's query times out upstream at 5 s and goes to the next server; it stays.
    let actions = forwarder.poll(now: now + .seconds(5))
    #expect(closed(actions) == [opened.socket] && tcpOpen(actions) != nil)
    #expect(forwarder.guestConnectionCount == 1)
  }

  @Test func aGuestThatHalfClosesIsAnsweredThenClosed() throws {
    var forwarder = F.forwarder()
    let query = framed(F.query("www.test", id: 1))
    let opened = try #require(
      tcpOpen(forwarder.receiveGuestTCP(query.span, connection: connection, now: now)))
    #expect(forwarder.guestStreamEnded(connection, now: now).isEmpty)
    let answer = framed(F.response(to: opened.message, code: .noError))
    let actions = forwarder.receiveUpstreamTCP(answer.span, socket: opened.socket, now: now)
    #expect(tcpAnswers(actions, connection).count == 1)
    #expect(actions.last == .guest(.closeConnection(connection)))
    #expect(forwarder.guestConnectionCount == 0)
    // With nothing waiting, it closes at once.
    let other = DNSGuestConnection(rawValue: 5)
    _ = forwarder.guestConnectionOpened(other, now: now)
    #expect(forwarder.guestStreamEnded(other, now: now) == [.guest(.closeConnection(other))])
  }

  @Test func aConnectionThatGoesAwayTakesItsQueriesWithIt() throws {
    var forwarder = F.forwarder()
    let query = framed(F.query("www.test", id: 1))
    let opened = try #require(
      tcpOpen(forwarder.receiveGuestTCP(query.span, connection: connection, now: now)))
    #expect(forwarder.guestConnectionClosed(connection) == [.upstream(.close(opened.socket))])
    #expect(forwarder.pendingCount == 0 && forwarder.upstreamTCPCount == 0)
    let answer = framed(F.response(to: opened.message, code: .noError))
    #expect(forwarder.receiveUpstreamTCP(answer.span, socket: opened.socket, now: now).isEmpty)
    #expect(forwarder.guestConnectionClosed(connection).isEmpty)
  }

  @Test func malformedMessagesOnTheStream() throws {
    var forwarder = F.forwarder()
    // Too short for a header: dropped. A response: dropped. A bad question: FORMERR.
    let garbage: [UInt8] = [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x30, 0, 1, 0]
    let stream = framed([1, 2, 3]) + framed(DnsmasqDNSCaptures.ednsAnswer) + framed(garbage)
    let actions = forwarder.receiveGuestTCP(stream.span, connection: connection, now: now)
    let answers = tcpAnswers(actions, connection)
    #expect(answers.count == 1)
    let formerr = try parse(answers[0])
    #expect(formerr.header.id == 9 && formerr.header.responseCode == .formatError)
    #expect(forwarder.counters.droppedMalformed == 2 && forwarder.counters.formerrsSent == 1)
    #expect(forwarder.guestConnectionCount == 1)
  }
}
