import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

/// Receive-buffer moderation on a steady path (virtual time, no jitter): a peer limited by our
/// window delivers exactly one window per round trip, so the buffer must grow from one round
/// trip's worth, not only from more than that. Before the fix the bar was the whole initial
/// window, which such a peer can never pass: 8 MB over a 100 ms round trip took 55 s with the
/// window stuck at its first ten segments.
@Suite struct ReceiveWindowGrowthTests {
  @Test func aWindowLimitedTransferOpensTheWindow() throws {
    var impairment = ImpairmentConfiguration()
    impairment.delay = .milliseconds(50)
    var network = SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: try IPv4CIDR(parsing: "10.0.0.1/24"), seed: 1),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 2),
      impairment: impairment, seed: 3)
    let result = TCPTransfer.run(
      network: &network, leftBytes: 8_000_000, rightBytes: 0, seed: 4, timeLimit: .seconds(120))
    #expect(result.bytesIntact && result.failure == nil)
    // Slow start from ten segments to 8 MB over 100 ms round trips takes well under 2 s of
    // window growth; a window stuck at 14,600 bytes needs 55 s.
    #expect(result.duration < .seconds(15), "took \(result.duration)")
    #expect(network.right.tcp.counters.receiveBufferGrowths >= 5)
  }
}
