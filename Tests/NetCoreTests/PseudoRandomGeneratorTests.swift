import NetCore
import Testing

/// The seeded generator: same seed, same sequence; sensible distributions.
struct PseudoRandomGeneratorTests {
  @Test func sameSeedSameSequence() {
    var a = PseudoRandomGenerator(seed: 12345)
    var b = PseudoRandomGenerator(seed: 12345)
    for _ in 0..<1000 { #expect(a.next() == b.next()) }
  }

  @Test func differentSeedsDiffer() {
    var a = PseudoRandomGenerator(seed: 1)
    var b = PseudoRandomGenerator(seed: 2)
    let first = (0..<8).map { _ in a.next() }
    let second = (0..<8).map { _ in b.next() }
    #expect(first != second)
    var zero = PseudoRandomGenerator(seed: 0)
    // SplitMix64 seeding keeps seed 0 from giving the all-zero xoshiro state.
    #expect((0..<4).map { _ in zero.next() }.contains { $0 != 0 })
  }

  /// Pins the sequence: a change here breaks replaying every recorded failing seed.
  @Test func sequenceIsStableAcrossChanges() {
    var random = PseudoRandomGenerator(seed: 0)
    let first = random.next()
    var again = PseudoRandomGenerator(seed: 0)
    #expect(again.next() == first)
    // xoshiro256** seeded by SplitMix64(0): the reference implementation's first output.
    #expect(first == 0x99EC_5F36_CB75_F2B4)
  }

  @Test func boundedValuesStayBelowTheBound() {
    var random = PseudoRandomGenerator(seed: 3)
    var seen = Set<UInt64>()
    for _ in 0..<10_000 {
      let value = random.next(below: 10)
      #expect(value < 10)
      seen.insert(value)
    }
    #expect(seen.count == 10)
    #expect(random.next(below: 1) == 0)
  }

  @Test func chanceMatchesItsProbability() {
    var random = PseudoRandomGenerator(seed: 4)
    let trials = 100_000
    let hits = (0..<trials).filter { _ in random.chance(perMillion: 30_000) }.count
    #expect((2_700...3_300).contains(hits))
    #expect(!(0..<1000).contains { _ in random.chance(perMillion: 0) })
    #expect((0..<1000).allSatisfy { _ in random.chance(perMillion: 1_000_000) })
  }

  @Test func worksWithStandardLibraryRandomAPIs() {
    var a = PseudoRandomGenerator(seed: 9)
    var b = PseudoRandomGenerator(seed: 9)
    #expect(Int.random(in: 0..<1000, using: &a) == Int.random(in: 0..<1000, using: &b))
    #expect(Array(0..<20).shuffled(using: &a) == Array(0..<20).shuffled(using: &b))
  }
}
