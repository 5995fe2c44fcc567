import Applications
import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

/// The memory budget with whole stacks (virtual time): a server on a small budget, hostile
/// clients on the other stack that open connections to its services and never read. The
/// server's budget must never pass its limit, pressure must show in its counters, new
/// connections must be refused before the old ones starve, and once the clients are gone a
/// transfer must go through again.
@Suite struct MemoryBudgetSimulationTests {
  static let serverAddress = IPv4Address(10, 0, 0, 2)

  static func network(serverBudget: Int) throws -> SimulatedNetwork {
    SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: try IPv4CIDR(parsing: "10.0.0.1/24"), seed: 1, memoryLimit: 1 << 30),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 2, memoryLimit: serverBudget),
      seed: 3)
  }

  /// Opens `count` connections from the left stack to `port`; sends `send` bytes on each
  /// (as much as they take) and never reads.
  static func openHostile(
    _ network: inout SimulatedNetwork, count: Int, port: UInt16, send: Int
  ) -> [TCPConnectionID] {
    var ids: [TCPConnectionID] = []
    for _ in 0..<count {
      var ipv4 = network.left.ipv4
      if let id = try? network.left.tcp.connect(
        to: .v4(serverAddress), port: port, now: network.now, network: &ipv4)
      {
        ids.append(id)
      }
      network.left.ipv4 = ipv4
    }
    let payload = [UInt8](repeating: 0x65, count: 65536)
    var sent = [Int](repeating: 0, count: ids.count)
    network.run(until: network.now + .seconds(5)) { network in
      for (index, id) in ids.enumerated() where sent[index] < send {
        sent[index] +=
          (try? network.left.tcp.write(
            id, payload.span.extracting(0..<min(65536, send - sent[index])))) ?? 0
      }
      return true
    }
    return ids
  }

  @Test func neverReadingClientsCannotPassTheBudget() throws {
    let limit = 8 << 20
    var network = try Self.network(serverBudget: limit)
    try network.right.startService(.echo, port: 7)
    try network.right.startService(.chargen, port: 19)
    var peak = 0
    let echo = Self.openHostile(&network, count: 400, port: 7, send: 1 << 20)
    let chargen = Self.openHostile(&network, count: 400, port: 19, send: 0)
    network.run(until: network.now + .seconds(10)) { network in
      peak = max(peak, network.right.budget.used)
      return true
    }
    let budget = network.right.budget
    let counters = network.right.tcp.counters
    #expect(budget.peak <= limit)
    #expect(peak <= limit)
    #expect(budget.pressureEpisodes >= 1, "the clients' demand never brought pressure")
    // New connections are refused (their SYN dropped, or, handshake done, their session
    // turned away) rather than the existing ones starved.
    let refused = counters.connectionsRefusedMemory + network.right.services.counters.refused
    #expect(refused > 0, "no connection was refused")
    // The clients leave (their connections reset): everything comes back.
    for id in echo + chargen { network.left.tcp.abort(id) }
    network.run(until: network.now + .seconds(30))
    #expect(network.right.tcp.connectionCount == 0)
    #expect(budget.used(for: .tcpSend) == 0 && budget.used(for: .tcpReceive) == 0)
    #expect(budget.used(for: .tcpConnections) == 0 && budget.used(for: .services) == 0)
    #expect(!budget.isUnderPressure)
    // And a transfer goes through again.
    let result = TCPTransfer.run(
      network: &network, leftBytes: 2_000_000, rightBytes: 2_000_000, seed: 4)
    #expect(result.failure == nil && result.bytesIntact && result.closedCleanly)
  }
}
