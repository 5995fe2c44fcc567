import Applications
import NetCore
import NetworkAPI
import Services
import Testing

/// The UDP services' driver for host sockets (`--backend socket`): the same handler the
/// stack's loop runs, over a socket of the application API.
struct DatagramServiceTaskTests {
  static let client = IPv4Address(10, 77, 0, 1)

  /// Runs UDP echo on `port` over `incoming`; returns what it sent and the service after.
  static func run(_ incoming: [(payload: [UInt8], from: SocketAddress)], port: UInt16 = 7)
    async -> (sent: [(payload: [UInt8], to: SocketAddress)], service: DatagramService)
  {
    let stack = ScriptedUDPStack(incoming: incoming)
    let task = DatagramServiceTask(.echo(UDPEchoHandler(port: port)))
    do {
      try await task.run(on: stack)
    } catch {
      // The scripted socket ends the service with .closed once the datagrams are used up.
      #expect(error == .closed)
    }
    #expect(stack.socket.localPort == port, "the task binds the handler's port")
    return (stack.socket.sent, task.service)
  }

  @Test func answersGoBackThroughTheSocket() async {
    let from = SocketAddress(Self.client, 40_000)
    let (sent, service) = await Self.run([(Array("hello".utf8), from), ([], from)])
    #expect(sent.map(\.payload) == [Array("hello".utf8), []])
    #expect(sent.map(\.to) == [from, from])
    #expect(service.udpEchoCounters?.datagramsReceived == 2)
    #expect(service.udpEchoCounters?.datagramsEchoed == 2)
  }

  /// The handler's refusals hold on this driver too, and its counters are read from outside
  /// the task.
  @Test func refusalsSendNothing() async {
    let (sent, service) = await Self.run(
      [
        ([1], SocketAddress(Self.client, 19)), ([2], SocketAddress(Self.client, 7007)),
        ([3], SocketAddress(.broadcast, 40_000)), ([4], SocketAddress(Self.client, 40_000)),
      ], port: 7007)
    #expect(sent.map(\.payload) == [[4]])
    let counters = service.udpEchoCounters
    #expect(counters?.datagramsReceived == 4 && counters?.datagramsEchoed == 1)
    #expect(counters?.refusedFromServicePort == 2 && counters?.refusedFromSourceAddress == 1)
  }
}
