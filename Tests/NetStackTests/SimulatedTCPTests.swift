import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

/// TCP between two stacks over the simulated link: byte-exact transfers both ways and clean
/// closes, on a clean link and under seeded loss, duplication, reordering, delay and corruption.
struct SimulatedTCPTests {
  static func network(
    impairment: ImpairmentConfiguration, seed: UInt64, tcp: TCPConfiguration = TCPConfiguration()
  ) -> SimulatedNetwork {
    SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24), seed: seed, tcp: tcp
      ),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24), seed: seed &+ 7,
        tcp: tcp),
      impairment: impairment, seed: seed)
  }

  @Test func cleanLinkTransfersBothWays() {
    var impairment = ImpairmentConfiguration()
    impairment.delay = .microseconds(100)
    var network = Self.network(impairment: impairment, seed: 1)
    let result = TCPTransfer.run(
      network: &network, leftBytes: 1 << 20, rightBytes: 300_000, seed: 1)
    #expect(result.failure == nil, "\(result.failure ?? "")")
    #expect(result.bytesIntact)
    #expect(result.closedCleanly)
    #expect(result.leftCounters.segmentsRetransmitted == 0)
  }

  @Test func lossyLinkTransfersIntact() {
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 50_000
    impairment.reorderPerMillion = 50_000
    impairment.duplicatePerMillion = 10_000
    impairment.corruptPerMillion = 10_000
    impairment.delay = .milliseconds(2)
    var network = Self.network(impairment: impairment, seed: 3)
    let result = TCPTransfer.run(
      network: &network, leftBytes: 1 << 20, rightBytes: 1 << 20, seed: 3)
    #expect(result.failure == nil, "\(result.failure ?? "")")
    #expect(result.bytesIntact)
    #expect(result.closedCleanly)
  }
}
