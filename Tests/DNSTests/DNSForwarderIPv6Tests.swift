import DNS
import NetCore
import Testing

/// The forwarder with either family on either side (RFC 3596 §1: DNS over IPv6 is the same
/// protocol): a guest at fd00::100 asking fd00::3, name servers over IPv6, and resolv.conf's
/// mixed lists tried in order. Answers are matched by the whole endpoint, so an answer from the
/// server's IPv4 address for an IPv6 try (or the other way round) is a mismatch.
struct DNSForwarderIPv6Tests {
  typealias F = ForwarderFixture
  static let guest6 = DNSEndpoint(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0x100), 40000)
  static let local6 = DNSEndpoint(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 3), 53)
  static let server6 = DNSEndpoint(IPv6Address(0xFD01, 0, 0, 0, 0, 0, 0, 2), 53)
  let now = F.start

  /// The UDP answers among `actions` with where they go from and to.
  func answers(_ actions: [DNSForwarderAction]) -> [(DNSEndpoint, DNSEndpoint, [UInt8])] {
    actions.compactMap { action in
      if case .guest(.answerUDP(let from, let to, let message)) = action {
        return (from, to, message)
      }
      return nil
    }
  }

  @Test func anIPv6GuestIsAnsweredFromTheIPv6DNSAddressThroughAnIPv4Server() throws {
    var forwarder = F.forwarder(servers: [F.first])
    let query = DnsmasqDNSCaptures.aaaaQuery
    let sent = try #require(
      udpSend(
        forwarder.receiveGuestUDP(query.span, from: Self.guest6, to: Self.local6, now: now)))
    #expect(sent.server == F.first)
    let answer = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.aaaaAnswer)
    let actions = forwarder.receiveUpstreamUDP(
      answer.span, socket: sent.socket, from: F.first, now: now + .milliseconds(2))
    let answered = answers(actions)
    #expect(answered.count == 1)
    #expect(answered.first?.0 == Self.local6 && answered.first?.1 == Self.guest6)
    #expect(answered.first?.2 == DnsmasqDNSCaptures.aaaaAnswer)
    #expect("\(Self.local6)" == "[fd00::3]:53")
  }

  @Test func anIPv6ServerIsAskedAndOnlyItsOwnAddressAndPortAnswer() throws {
    var forwarder = F.forwarder(servers: [Self.server6])
    let query = DnsmasqDNSCaptures.plainQuery
    let sent = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    #expect(sent.server == Self.server6)
    let answer = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.plainAnswer)
    // The same bytes from elsewhere: another IPv6 address, the right port on IPv4, another port.
    for stranger in [
      DNSEndpoint(IPv6Address(0xFD01, 0, 0, 0, 0, 0, 0, 3), 53),
      DNSEndpoint(IPv4Address(253, 1, 0, 2), 53),
      DNSEndpoint(Self.server6.address, 5353),
    ] {
      #expect(
        forwarder.receiveUpstreamUDP(answer.span, socket: sent.socket, from: stranger, now: now)
          .isEmpty)
    }
    #expect(forwarder.counters.mismatchedAnswersDropped == 3)
    let actions = forwarder.receiveUpstreamUDP(
      answer.span, socket: sent.socket, from: Self.server6, now: now + .milliseconds(1))
    #expect(udpAnswers(actions) == [DnsmasqDNSCaptures.plainAnswer])
  }

  @Test func aTruncatedAnswerFromAnIPv6ServerIsAskedAgainOverTCPOfTheSameServer() throws {
    var forwarder = F.forwarder(servers: [Self.server6])
    let query = DnsmasqDNSCaptures.bigQuery
    let sent = try #require(
      udpSend(
        forwarder.receiveGuestUDP(query.span, from: Self.guest6, to: Self.local6, now: now)))
    let truncated = F.with(id: F.id(of: sent.message), DnsmasqDNSCaptures.bigTruncatedAnswer)
    let actions = forwarder.receiveUpstreamUDP(
      truncated.span, socket: sent.socket, from: Self.server6, now: now + .milliseconds(1))
    let opened = try #require(tcpOpen(actions))
    #expect(opened.server == Self.server6)
    #expect(forwarder.counters.truncatedRetries == 1)
  }

  @Test func aMixedListIsTriedInTheFilesOrder() throws {
    let conf = ResolvConf(
      parsing: Array("nameserver fd01::2\nnameserver 10.53.0.1\nnameserver fe80::1%eth0\n".utf8))
    let servers = conf.forwarderAddresses.map { DNSEndpoint($0, DNSEndpoint.serverPort) }
    #expect(servers == [Self.server6, F.first])
    var forwarder = F.forwarder(servers: servers) { $0.attempts = 1 }
    let query = F.query("www.test", id: 4)
    let first = try #require(
      udpSend(forwarder.receiveGuestUDP(query.span, from: F.guest, to: F.local, now: now)))
    #expect(first.server == Self.server6)
    // The IPv6 server does not answer in time: the IPv4 one is next.
    let next = try #require(udpSend(forwarder.poll(now: now + .seconds(5))))
    #expect(next.server == F.first)
    #expect(forwarder.counters.timeouts == 1)
  }
}
