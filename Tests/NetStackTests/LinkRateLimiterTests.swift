import NetCore
import NetSimulation
import NetStack
import Testing

/// The simulated link's bottleneck: serialization at the line rate, exact over many frames,
/// a drop-tail queue measured in bytes, and a transfer over a rate-limited network that
/// cannot beat the line.
struct LinkRateLimiterTests {
  let start = Instant(nanoseconds: 1_000_000_000)

  @Test func framesLeaveOneAfterAnotherAtTheLineRate() {
    var limiter = LinkRateLimiter(bitsPerSecond: 1_000_000_000, queueLimit: 1 << 20)
    // 1500 bytes at 1 Gbit/s: 12 µs each, back to back when they arrive together.
    #expect(limiter.admit(frameOf: 1500, at: start) == start + .microseconds(12))
    #expect(limiter.admit(frameOf: 1500, at: start) == start + .microseconds(24))
    #expect(limiter.admit(frameOf: 750, at: start) == start + .microseconds(30))
    #expect(limiter.backlog(at: start) == 3750)
    #expect(limiter.backlog(at: start + .microseconds(12)) == 2250)
    #expect(limiter.backlog(at: start + .microseconds(30)) == 0)
    #expect(limiter.framesAdmitted == 3)
  }

  @Test func anIdleLineSendsAtOnce() {
    var limiter = LinkRateLimiter(bitsPerSecond: 100_000_000, queueLimit: 1 << 20)
    #expect(limiter.admit(frameOf: 1000, at: start) == start + .microseconds(80))
    // The line has been idle for a while: the next frame does not wait for the past.
    let later = start + .milliseconds(5)
    #expect(limiter.admit(frameOf: 1000, at: later) == later + .microseconds(80))
  }

  @Test func roundingDoesNotAddUp() {
    // One byte at 3 Gbit/s is 2.67 ns: a million of them take 2,666,666.67 ns, not 3 ms.
    var limiter = LinkRateLimiter(bitsPerSecond: 3_000_000_000, queueLimit: 2_000_000)
    var last = start
    for _ in 0..<1_000_000 {
      last = limiter.admit(frameOf: 1, at: start) ?? last
    }
    #expect(last == start + .nanoseconds(2_666_666))
    #expect(limiter.framesDropped == 0)
  }

  @Test func aFullQueueDropsTheTail() {
    var limiter = LinkRateLimiter(bitsPerSecond: 1_000_000_000, queueLimit: 100_000)
    var admitted = 0
    for _ in 0..<100 where limiter.admit(frameOf: 1500, at: start) != nil { admitted += 1 }
    #expect(admitted == 66)  // 66 × 1500 = 99,000 bytes; a 67th would not fit
    #expect(limiter.framesDropped == 34)
    // Once the line has sent one frame there is room for one more.
    #expect(limiter.admit(frameOf: 1500, at: start + .microseconds(12)) != nil)
    #expect(limiter.admit(frameOf: 1500, at: start + .microseconds(12)) == nil)
  }

  @Test func theQueueHoldsAtLeastOneLargestFrame() {
    var limiter = LinkRateLimiter(bitsPerSecond: 1_000_000, queueLimit: 10)
    #expect(limiter.queueLimit == 65_550)
    #expect(limiter.admit(frameOf: 65_550, at: start) != nil)
  }

  /// A transfer over a 100 Mbit/s link takes at least the time its frames need on the line,
  /// and a queue too small for the window drops frames that TCP then recovers.
  @Test func aTransferCannotBeatTheLine() {
    var impairment = ImpairmentConfiguration()
    impairment.delay = .milliseconds(1)
    var network = SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24), seed: 3),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24), seed: 10),
      impairment: impairment, seed: 3,
      rateLimit: LinkRateLimiter(bitsPerSecond: 100_000_000, queueLimit: 20 * 1514))
    let bytes = 2 << 20
    let result = TCPTransfer.run(network: &network, leftBytes: bytes, rightBytes: 0, seed: 3)
    #expect(result.failure == nil, "\(result.failure ?? "")")
    #expect(result.bytesIntact && result.closedCleanly)
    // 2 MiB of payload in frames of at most 1514 bytes carrying 1448: the line alone needs
    // bytes × 1514 / 1448 × 8 / 10⁸ s, about 175 ms.
    let lineTime = Int64(bytes) * 1514 / 1448 * 8 * 1_000_000_000 / 100_000_000
    #expect(result.duration.nanoseconds >= lineTime)
    #expect(network.queueDrops > 0)
    #expect(network.leftToRightRate?.framesAdmitted ?? 0 >= UInt64(bytes / 1448))
  }
}
