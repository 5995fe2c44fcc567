import NetCore
import Testing

@testable import TCP

/// Initial sequence numbers (RFC 6528 §3): ISN = M + F(4-tuple, secret), M ticking every
/// 4 µs: increasing with time for a tuple, unrelated between tuples and between secrets.
struct InitialSequenceNumberTests {
  static let tuple = TCPFourTuple(
    localAddress: .v4(IPv4Address(10, 0, 0, 1)), localPort: 80,
    remoteAddress: .v4(IPv4Address(10, 0, 0, 2)), remotePort: 40000)

  @Test func increasesWithTimeForATuple() {
    let generator = InitialSequenceNumberGenerator(key0: 1, key1: 2)
    let start = Instant(nanoseconds: 5_000_000_000)
    let first = generator.isn(for: Self.tuple, now: start)
    // M ticks every 4 µs: 250 000 per second.
    #expect(generator.isn(for: Self.tuple, now: start + .microseconds(4)) == first + 1)
    #expect(generator.isn(for: Self.tuple, now: start + .seconds(1)) == first + 250_000)
    #expect(generator.isn(for: Self.tuple, now: start + .microseconds(3)) == first)
    var previous = first
    for step in 1...100 {
      let next = generator.isn(for: Self.tuple, now: start + .milliseconds(Int64(step) * 37))
      #expect(previous < next)
      previous = next
    }
  }

  @Test func differsBetweenTuples() {
    let generator = InitialSequenceNumberGenerator(key0: 1, key1: 2)
    var seen = Set<UInt32>()
    for port in 40000..<40100 as Range<UInt16> {
      var tuple = Self.tuple
      tuple.remotePort = port
      seen.insert(generator.isn(for: tuple, now: .zero).rawValue)
    }
    #expect(seen.count == 100)
    var other = Self.tuple
    other.remoteAddress = .v4(IPv4Address(10, 0, 0, 3))
    #expect(generator.isn(for: other, now: .zero) != generator.isn(for: Self.tuple, now: .zero))
  }

  @Test func dependsOnTheSecret() {
    let a = InitialSequenceNumberGenerator(key0: 1, key1: 2)
    let b = InitialSequenceNumberGenerator(key0: 1, key1: 3)
    #expect(a.isn(for: Self.tuple, now: .zero) != b.isn(for: Self.tuple, now: .zero))
  }

  @Test func layersSeededDifferentlyChooseDifferentISNs() {
    var a = Harness.listening()
    a.receiveSyn()
    var b = Harness(seed: 2)
    b.listener = try? b.tcp.listen(port: Harness.serverPort)
    b.receiveSyn()
    #expect(a.iss != b.iss)
  }
}
