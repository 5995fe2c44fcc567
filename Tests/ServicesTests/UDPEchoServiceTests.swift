import NetCore
import NetworkAPI
import Services
import Testing

/// UDP echo (RFC 862) and the datagrams it must leave unanswered (CERT CA-1996-01 loops).
struct UDPEchoServiceTests {
  static let client = IPv4Address(10, 77, 0, 1)

  /// Runs the service on port `port` over `incoming`; returns what it sent and its counters.
  static func echo(_ incoming: [(payload: [UInt8], from: SocketAddress)], port: UInt16 = 7)
    async -> (sent: [(payload: [UInt8], to: SocketAddress)], counters: UDPEchoCounters)
  {
    let stack = ScriptedUDPStack(incoming: incoming)
    let counters = UDPEchoCounters()
    do {
      try await UDPEchoService(port: port, counters: counters).run(on: stack)
    } catch {
      // The scripted socket ends the service with .closed once the datagrams are used up.
      #expect(error == .closed)
    }
    return (stack.socket.sent, counters)
  }

  @Test func aClientDatagramComesBack() async {
    let from = SocketAddress(Self.client, 40_000)
    let (sent, counters) = await Self.echo([(Array("hello".utf8), from), ([], from)])
    #expect(sent.map(\.payload) == [Array("hello".utf8), []])
    #expect(sent.map(\.to) == [from, from])
    #expect(counters.datagramsReceived == 2 && counters.datagramsEchoed == 2)
    #expect(counters.refusedFromServicePort == 0 && counters.refusedFromSourceAddress == 0)
  }

  /// Echo, discard, daytime, qotd, chargen, time, port 0, and the rest of the system ports:
  /// answering any of them can start a loop with the service there.
  @Test(arguments: [0, 7, 9, 13, 17, 19, 37, 53, 123, 161, 1023] as [UInt16])
  func nothingGoesBackToAServicePort(_ port: UInt16) async {
    let (sent, counters) = await Self.echo([([1, 2, 3], SocketAddress(Self.client, port))])
    #expect(sent.isEmpty)
    #expect(counters.datagramsReceived == 1 && counters.datagramsEchoed == 0)
    #expect(counters.refusedFromServicePort == 1)
  }

  /// Two echo services moved to the same port would answer each other.
  @Test func nothingGoesBackToTheServicesOwnPort() async {
    let (sent, counters) = await Self.echo(
      [([1], SocketAddress(Self.client, 7007)), ([2], SocketAddress(Self.client, 7008))],
      port: 7007)
    #expect(sent.map(\.payload) == [[2]])
    #expect(counters.refusedFromServicePort == 1 && counters.datagramsEchoed == 1)
  }

  @Test func theFirstClientPortIsAnswered() async {
    let from = SocketAddress(Self.client, 1024)
    let (sent, _) = await Self.echo([([9], from)])
    #expect(sent.map(\.to) == [from])
  }

  @Test(
    arguments: [
      IPv4Address.any, .broadcast, IPv4Address(224, 0, 0, 1), IPv4Address(240, 0, 0, 1),
    ])
  func nothingGoesBackToASourceThatIsNoHost(_ address: IPv4Address) async {
    let (sent, counters) = await Self.echo([([1], SocketAddress(address, 40_000))])
    #expect(sent.isEmpty)
    #expect(counters.refusedFromSourceAddress == 1 && counters.refusedFromServicePort == 0)
  }

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
}
