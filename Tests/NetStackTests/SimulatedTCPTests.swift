import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

/// TCP between two stacks over the simulated link: byte-exact transfers both ways and clean
/// closes, on a clean link and under seeded loss, duplication, reordering, delay and
/// corruption. Virtual time, so a thousand seeds take seconds; a failing seed is named and
/// replays exactly with `netstack-sim transfer --seed N --impair ...`.
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

  /// The impairment for a seed: loss from 0 to 10%, reordering up to 10%, duplication and
  /// corruption up to 2%, one-way delay from 0.1 to 20 ms, all drawn from the seed.
  static func impairment(for seed: UInt64) -> ImpairmentConfiguration {
    var random = PseudoRandomGenerator(seed: seed ^ 0x5EED)
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = random.next(below: 100_001)
    impairment.reorderPerMillion = random.next(below: 100_001)
    impairment.duplicatePerMillion = random.next(below: 20_001)
    impairment.corruptPerMillion = random.next(below: 20_001)
    impairment.delay = .microseconds(100 + Int64(random.next(below: 20_000)))
    return impairment
  }

  @Test func cleanLinkTransfersBothWaysWithoutRetransmissions() {
    var impairment = ImpairmentConfiguration()
    impairment.delay = .microseconds(100)
    var network = Self.network(impairment: impairment, seed: 1)
    let result = TCPTransfer.run(
      network: &network, leftBytes: 4 << 20, rightBytes: 3 << 20, seed: 1)
    #expect(result.failure == nil, "\(result.failure ?? "")")
    #expect(result.bytesIntact)
    #expect(result.closedCleanly)
    #expect(result.leftCounters.segmentsRetransmitted == 0)
    #expect(result.rightCounters.segmentsRetransmitted == 0)
  }

  /// A thousand seeds, each a different mix of loss, reordering, duplication, corruption and
  /// delay, each moving a megabyte both ways.
  @Test(arguments: 1...1000)
  func impairedLinkTransfersIntact(seed: Int) {
    let seed = UInt64(seed)
    let impairment = Self.impairment(for: seed)
    var network = Self.network(impairment: impairment, seed: seed)
    let result = TCPTransfer.run(
      network: &network, leftBytes: 1 << 20, rightBytes: 1 << 20, seed: seed)
    let replay =
      "seed \(seed): netstack-sim transfer --seed \(seed) --impair loss=\(Double(impairment.lossPerMillion) / 10_000)%,reorder=\(Double(impairment.reorderPerMillion) / 10_000)%,duplicate=\(Double(impairment.duplicatePerMillion) / 10_000)%,corrupt=\(Double(impairment.corruptPerMillion) / 10_000)%,delay=\(impairment.delay.microseconds)us"
    #expect(result.failure == nil, "\(replay): \(result.failure ?? "")")
    #expect(result.bytesIntact, "\(replay)")
    #expect(result.closedCleanly, "\(replay)")
  }
}
