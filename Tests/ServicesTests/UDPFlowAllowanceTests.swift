import NetCore
import NetworkAPI
import Services
import Testing

/// A bound shared by several UDP forwarders (the published UDP ports): a new client past it
/// is dropped and counted, the forwarder's own least-recently-active eviction comes first,
/// and every place taken comes back when its flow closes.
struct UDPFlowAllowanceTests {
  static let target = SocketAddress(IPv4Address(10, 0, 2, 15), 7007)

  /// One datagram from each of `clients` distinct client ports.
  static func datagrams(from clients: Int) -> [(payload: [UInt8], from: SocketAddress)] {
    (0..<clients).map { index in
      (
        payload: [UInt8(index & 0xFF)],
        from: SocketAddress(IPv4Address(10, 99, 0, 2), UInt16(20_000 + index))
      )
    }
  }

  /// Runs a forwarder over `clients` clients until the scripted front runs out (it then
  /// stops, closing every flow); returns its counters and what reached the target.
  static func run(clients: Int, maximumFlows: Int, allowance: FlowAllowance) async
    -> (counters: UDPFlowForwarder<ScriptedUDPSocket, ScriptedUDPStack>.Counters, sent: Int)
  {
    let front = ScriptedUDPSocket(incoming: datagrams(from: clients))
    let back = ScriptedUDPStack(incoming: [])
    let forwarder = UDPFlowForwarder(
      front: front, back: back, target: target, maximumFlows: maximumFlows,
      idleTimeout: .seconds(60), executor: globalConcurrentExecutor,
      clock: { Instant(nanoseconds: 1) })
    forwarder.allowance = allowance
    await forwarder.run()
    return (forwarder.counters, back.socket.sent.count)
  }

  @Test func newClientsPastTheAllowanceAreDroppedAndCounted() async {
    let allowance = FlowAllowance(limit: 3)
    let (counters, sent) = await Self.run(clients: 5, maximumFlows: 256, allowance: allowance)
    #expect(counters.flowsOpened == 3)
    #expect(counters.droppedFlowLimit == 2)
    #expect(counters.datagramsToTarget == 3 && sent == 3)
    #expect(counters.flowsEvicted == 0)
    #expect(allowance.taken == 0, "the stopped forwarder gave every place back")
  }

  /// Places another forwarder holds are not this one's to take.
  @Test func theAllowanceIsShared() async {
    let allowance = FlowAllowance(limit: 3)
    #expect(allowance.take() && allowance.take())
    let (counters, _) = await Self.run(clients: 3, maximumFlows: 256, allowance: allowance)
    #expect(counters.flowsOpened == 1 && counters.droppedFlowLimit == 2)
    #expect(allowance.taken == 2, "only its own place came back")
  }

  /// A forwarder at its own bound evicts its least recently active flow, whose place the new
  /// client then takes: nothing is dropped.
  @Test func theForwardersOwnBoundEvictsFirst() async {
    let allowance = FlowAllowance(limit: 2)
    let (counters, _) = await Self.run(clients: 4, maximumFlows: 2, allowance: allowance)
    #expect(counters.flowsOpened == 4 && counters.flowsEvicted == 2)
    #expect(counters.droppedFlowLimit == 0)
    #expect(allowance.taken == 0)
  }

  @Test func anAllowanceCountsItsPlaces() {
    let allowance = FlowAllowance(limit: 2)
    #expect(allowance.take() && allowance.take())
    #expect(!allowance.take())
    allowance.giveBack()
    #expect(allowance.taken == 1 && allowance.take())
    #expect(FlowAllowance(limit: 0).limit == 1)
  }
}
