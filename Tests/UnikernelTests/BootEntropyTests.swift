import Testing

@testable import UnikernelMain

/// The seed of the unikernel's secrets: the CPU's generator when there is one, mixed with the
/// clock's jitter; the boot report names the source.
@Suite struct BootEntropyTests {
  /// A guest whose clock advances by a scripted step per reading and whose CPU generator
  /// returns `random` (nil: no generator). Nothing else is used.
  final class ScriptedArchitecture: GuestArchitecture {
    var time: UInt64 = 1_000_000
    var steps: [UInt64]
    var reading = 0
    let random: UInt64?

    init(random: UInt64?, steps: [UInt64] = [40]) {
      self.random = random
      self.steps = steps
    }

    func hardwareRandom() -> UInt64? { random }
    var hardwareRandomName: String { "RDRAND" }

    func systemTime() -> UInt64 {
      time += steps[reading % steps.count]
      reading += 1
      return time
    }

    func hypercall(_ operation: XenHypercallNumber, _ command: UInt, _ argument: UInt) -> Int {
      -38
    }
    var commandLine: String { "" }
    func freeFrame(_ index: Int) -> UInt { 0 }
    func attachConsole(ring: UnsafeMutableRawPointer, port: UInt32) {}
    var heapUsage: (inUse: Int, size: Int) { (0, 0) }
    func shutdown(_ reason: ShutdownReason) -> Never { fatalError("shutdown") }
  }

  @Test func theHardwareGeneratorIsUsedAndNamed() {
    let entropy = BootEntropy.gather(ScriptedArchitecture(random: 0x1234_5678_9ABC_DEF0))
    #expect(entropy.source == "RDRAND and clock jitter")
    // Every bit of the generator's number reaches the seed: one flipped bit changes it.
    let flipped = BootEntropy.gather(ScriptedArchitecture(random: 0x1234_5678_9ABC_DEF1))
    #expect(entropy.seed != flipped.seed)
  }

  @Test func withoutAGeneratorTheJitterIsAllAndTheReportSaysSo() {
    let steady = BootEntropy.gather(ScriptedArchitecture(random: nil, steps: [40]))
    #expect(steady.source == "clock jitter only (no RDRAND on this CPU)")
    // One clock reading spaced differently gives another seed.
    var steps = [UInt64](repeating: 40, count: BootEntropy.jitterSamples + 2)
    steps[100] = 41
    let jittered = BootEntropy.gather(ScriptedArchitecture(random: nil, steps: steps))
    #expect(steady.seed != jittered.seed)
  }

  @Test func theClockIsReadOncePerSampleAndOnceBefore() {
    let architecture = ScriptedArchitecture(random: 7)
    _ = BootEntropy.gather(architecture)
    #expect(architecture.reading == BootEntropy.jitterSamples + 1)
  }
}
