import Applications
import NetCore
import Testing

/// UDP echo (RFC 862) as a handler: what it answers, and the datagrams it must leave
/// unanswered (CERT CA-1996-01 loops), each counted.
struct UDPEchoHandlerTests {
  static let client = IPAddress.v4(IPv4Address(10, 77, 0, 1))

  /// Gives the handler on `port` each datagram; returns its answers and its counters.
  static func echo(_ incoming: [Datagram], port: UInt16 = 7)
    -> (answers: [Datagram], counters: UDPEchoCounters)
  {
    var handler = UDPEchoHandler(port: port)
    let answers = incoming.compactMap { handler.receive($0) }
    return (answers, handler.counters)
  }

  @Test func aClientDatagramGoesBackToItsSender() {
    let hello = Datagram(payload: Array("hello".utf8), address: Self.client, port: 40_000)
    let empty = Datagram(payload: [], address: Self.client, port: 40_001)
    let (answers, counters) = Self.echo([hello, empty])
    #expect(answers == [hello, empty])
    #expect(counters.datagramsReceived == 2 && counters.datagramsEchoed == 2)
    #expect(counters.refusedFromServicePort == 0 && counters.refusedFromSourceAddress == 0)
  }

  /// Echo, discard, daytime, qotd, chargen, time, port 0, and the rest of the system ports:
  /// answering any of them can start a loop with the service there.
  @Test(arguments: [0, 7, 9, 13, 17, 19, 37, 53, 123, 161, 1023] as [UInt16])
  func nothingGoesBackToAServicePort(_ port: UInt16) {
    let (answers, counters) = Self.echo([
      Datagram(payload: [1, 2, 3], address: Self.client, port: port)
    ])
    #expect(answers.isEmpty)
    #expect(counters.datagramsReceived == 1 && counters.datagramsEchoed == 0)
    #expect(counters.refusedFromServicePort == 1)
  }

  /// Two echo services moved to the same port would answer each other.
  @Test func nothingGoesBackToTheServicesOwnPort() {
    let (answers, counters) = Self.echo(
      [
        Datagram(payload: [1], address: Self.client, port: 7007),
        Datagram(payload: [2], address: Self.client, port: 7008),
      ], port: 7007)
    #expect(answers.map(\.payload) == [[2]])
    #expect(counters.refusedFromServicePort == 1 && counters.datagramsEchoed == 1)
  }

  @Test func theFirstClientPortIsAnswered() {
    let (answers, _) = Self.echo([Datagram(payload: [9], address: Self.client, port: 1024)])
    #expect(answers.map(\.port) == [1024])
  }

  @Test(
    arguments: [
      IPAddress.v4(.any), .v4(.broadcast), .v4(IPv4Address(224, 0, 0, 1)),
      .v4(IPv4Address(240, 0, 0, 1)), .v6(.unspecified), .v6(.allNodes),
    ])
  func nothingGoesBackToASourceThatIsNoHost(_ address: IPAddress) {
    let (answers, counters) = Self.echo([Datagram(payload: [1], address: address, port: 40_000)])
    #expect(answers.isEmpty)
    #expect(counters.refusedFromSourceAddress == 1 && counters.refusedFromServicePort == 0)
  }

  /// The host's own sockets (the socket backend) deliver loopback sources of either family;
  /// the IPv6 layer drops `::1` from a link before it reaches a service.
  @Test(arguments: [IPAddress.v4(IPv4Address(127, 0, 0, 1)), .v6(.loopback)])
  func aLoopbackSourceIsAnsweredInEitherFamily(_ address: IPAddress) {
    let (answers, counters) = Self.echo([Datagram(payload: [1], address: address, port: 40_000)])
    #expect(answers.map(\.address) == [address])
    #expect(counters.refusedFromSourceAddress == 0 && counters.datagramsEchoed == 1)
  }

  /// The names netstackd's status, its exit report and the unikernel's console show, and
  /// the e2e tests read.
  @Test func countersAreReportedByName() {
    var names: [String] = []
    UDPEchoCounters().forEachCounter { name, _ in names.append("\(name)") }
    #expect(UDPEchoCounters.groupName.description == "udp_echo")
    #expect(
      names == [
        "datagrams_received", "datagrams_echoed", "refused_service_port",
        "refused_source_address",
      ])
  }

  /// A daemon with echo on two ports reports them summed.
  @Test func countersAddUp() {
    let (_, first) = Self.echo([
      Datagram(payload: [1], address: Self.client, port: 40_000),
      Datagram(payload: [1], address: Self.client, port: 19),
    ])
    let (_, second) = Self.echo(
      [Datagram(payload: [1], address: .v4(.any), port: 40_000)], port: 7007)
    let sum = first + second
    #expect(sum.datagramsReceived == 3 && sum.datagramsEchoed == 1)
    #expect(sum.refusedFromServicePort == 1 && sum.refusedFromSourceAddress == 1)
  }

  /// The handler behind ``DatagramService`` is the same handler, and keeps its counts.
  @Test func theServiceCaseDrivesTheHandler() {
    var service = DatagramService.echo(UDPEchoHandler(port: 7))
    let datagram = Datagram(payload: [4, 2], address: Self.client, port: 50_000)
    #expect(service.receive(datagram) == datagram)
    #expect(service.receive(Datagram(payload: [1], address: Self.client, port: 7)) == nil)
    #expect(service.port == 7 && service.name == "echo")
    #expect(service.udpEchoCounters?.datagramsEchoed == 1)
    #expect(service.udpEchoCounters?.refusedFromServicePort == 1)
  }
}
