import NetCore
import NetStack
import Testing

/// The fault injector: its text form, and what it does to frames over many draws.
struct ImpairmentTests {
  // MARK: Parsing

  @Test func emptyTextChangesNothing() throws {
    let configuration = try ImpairmentConfiguration(parsing: "")
    #expect(configuration == ImpairmentConfiguration())
    #expect(!configuration.isActive)
  }

  @Test func parsesEveryKey() throws {
    let configuration = try ImpairmentConfiguration(
      parsing: "loss=3%,reorder=5%,duplicate=1%,corrupt=0.5%,delay=2ms")
    #expect(configuration.lossPerMillion == 30_000)
    #expect(configuration.reorderPerMillion == 50_000)
    #expect(configuration.duplicatePerMillion == 10_000)
    #expect(configuration.corruptPerMillion == 5_000)
    #expect(configuration.delay == .milliseconds(2))
    #expect(configuration.isActive)
  }

  @Test(arguments: [
    ("loss=0%", 0 as UInt64), ("loss=100%", 1_000_000), ("loss=0.5%", 5_000),
    ("loss=12.25%", 122_500), ("loss=0.0001%", 1), ("loss=0.00001%", 0), ("loss=007%", 70_000),
    ("loss=1.%", 10_000), ("loss=.5%", 5_000), ("loss=99.9999999%", 999_999),
  ])
  func parsesPercentages(text: String, perMillion: UInt64) throws {
    #expect(try ImpairmentConfiguration(parsing: text).lossPerMillion == perMillion)
  }

  @Test(arguments: [
    ("delay=2ms", Interval.milliseconds(2)), ("delay=1.5ms", .microseconds(1500)),
    ("delay=500us", .microseconds(500)), ("delay=0ms", .zero), ("delay=0.25us", .nanoseconds(250)),
    ("delay=1000ms", .seconds(1)),
  ])
  func parsesDelays(text: String, delay: Interval) throws {
    let configuration = try ImpairmentConfiguration(parsing: text)
    #expect(configuration.delay == delay)
    #expect(configuration.isActive == (delay > .zero))
  }

  @Test func laterKeysOverrideEarlierOnes() throws {
    let configuration = try ImpairmentConfiguration(parsing: "loss=1%,loss=2%")
    #expect(configuration.lossPerMillion == 20_000)
  }

  @Test(arguments: [
    ("loss", ImpairmentParseError.badItem("loss")),
    ("loss=3%,delay", .badItem("delay")),
    ("foo=1%", .unknownKey("foo")),
    ("Loss=1%", .unknownKey("Loss")),
    ("=1%", .unknownKey("")),
    ("loss=3", .badValue("loss", "3")),
    ("loss=", .badValue("loss", "")),
    ("loss=%", .badValue("loss", "%")),
    ("loss=101%", .badValue("loss", "101%")),
    ("loss=100.0001%", .badValue("loss", "100.0001%")),
    ("loss=-1%", .badValue("loss", "-1%")),
    ("loss=1.2.3%", .badValue("loss", "1.2.3%")),
    ("loss=3 %", .badValue("loss", "3 %")),
    ("loss==3%", .badValue("loss", "=3%")),
    ("loss=3%;delay=1ms", .badValue("loss", "3%;delay=1ms")),
    ("loss=9999999999999%", .badValue("loss", "9999999999999%")),
    ("reorder=x%", .badValue("reorder", "x%")),
    ("duplicate=50", .badValue("duplicate", "50")),
    ("corrupt=1%%", .badValue("corrupt", "1%%")),
    ("delay=2", .badValue("delay", "2")),
    ("delay=2s", .badValue("delay", "2s")),
    ("delay=ms", .badValue("delay", "ms")),
    ("delay=-1ms", .badValue("delay", "-1ms")),
    ("delay=1.5.5ms", .badValue("delay", "1.5.5ms")),
    ("delay=3%", .badValue("delay", "3%")),
  ])
  func rejectsBadText(text: String, error: ImpairmentParseError) {
    #expect(throws: error) { try ImpairmentConfiguration(parsing: text) }
  }

  @Test func errorsDescribeWhatWasWrong() {
    #expect(ImpairmentParseError.badItem("loss").description.contains("'loss'"))
    #expect(ImpairmentParseError.unknownKey("foo").description.contains("'foo'"))
    let bad = ImpairmentParseError.badValue("delay", "2s").description
    #expect(bad.contains("'2s'") && bad.contains("delay"))
  }

  // MARK: The injector

  /// Frame `index`: its number in the first four bytes, then a fixed pattern.
  func frame(_ index: Int) -> [UInt8] {
    [
      UInt8(index >> 24 & 0xFF), UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF),
      UInt8(index & 0xFF),
    ]
      + (0..<60).map { UInt8($0) }
  }

  func index(of bytes: [UInt8]) -> Int {
    Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
  }

  /// Submits `count` frames one microsecond apart, releasing as it goes, then everything.
  func run(
    _ text: String, seed: UInt64 = 1, count: Int = 20_000
  ) throws -> (impairer: FrameImpairer, delivered: [(at: Instant, bytes: [UInt8])]) {
    var impairer = FrameImpairer(
      configuration: try ImpairmentConfiguration(parsing: text), seed: seed)
    var delivered: [(at: Instant, bytes: [UInt8])] = []
    var now = Instant.zero
    for index in 0..<count {
      let bytes = frame(index)
      impairer.submit(bytes.span, now: now)
      impairer.release(now: now) { delivered.append((now, $0.withBytes { $0.copyToArray() })) }
      now += .microseconds(1)
    }
    let end = now + .seconds(1)
    impairer.release(now: end) { delivered.append((end, $0.withBytes { $0.copyToArray() })) }
    #expect(impairer.count == 0)
    #expect(impairer.nextDeadline == nil)
    return (impairer, delivered)
  }

  @Test func inactiveConfigurationPassesEverythingAtOnce() throws {
    let (impairer, delivered) = try run("", count: 1000)
    #expect(delivered.count == 1000)
    for (position, entry) in delivered.enumerated() {
      #expect(entry.bytes == frame(position))
      #expect(entry.at == Instant(nanoseconds: Int64(position) * 1000))
    }
    #expect(impairer.framesDropped == 0 && impairer.framesReordered == 0)
  }

  @Test func lossDropsRoughlyItsShare() throws {
    let (impairer, delivered) = try run("loss=10%")
    #expect((1_800...2_200).contains(impairer.framesDropped))
    #expect(delivered.count == 20_000 - Int(impairer.framesDropped))
    // What survives is intact and in order.
    let indices = delivered.map { index(of: $0.bytes) }
    #expect(indices == indices.sorted())
    #expect(delivered.allSatisfy { $0.bytes == frame(index(of: $0.bytes)) })
  }

  @Test func totalLossDropsEverything() throws {
    let (impairer, delivered) = try run("loss=100%", count: 500)
    #expect(delivered.isEmpty)
    #expect(impairer.framesDropped == 500)
  }

  @Test func duplicationDeliversSomeFramesTwice() throws {
    let (impairer, delivered) = try run("duplicate=5%")
    #expect((800...1_200).contains(impairer.framesDuplicated))
    #expect(delivered.count == 20_000 + Int(impairer.framesDuplicated))
    var copies: [Int: Int] = [:]
    for entry in delivered { copies[index(of: entry.bytes), default: 0] += 1 }
    #expect(copies.count == 20_000)
    #expect(copies.values.filter { $0 == 2 }.count == Int(impairer.framesDuplicated))
  }

  @Test func corruptionFlipsOneByte() throws {
    let (impairer, delivered) = try run("corrupt=5%")
    #expect((800...1_200).contains(impairer.framesCorrupted))
    #expect(delivered.count == 20_000)
    // A flipped byte can be in the index itself: compare each delivered frame, in order, with
    // the frame submitted at that position.
    var differing = 0
    for (position, entry) in delivered.enumerated() {
      let changed = zip(entry.bytes, frame(position)).filter { $0 != $1 }.count
      #expect(changed <= 1)
      differing += changed
    }
    #expect(differing == Int(impairer.framesCorrupted))
  }

  @Test func reorderingHoldsFramesBackSoOthersOvertake() throws {
    let (impairer, delivered) = try run("reorder=10%")
    #expect((1_800...2_200).contains(impairer.framesReordered))
    #expect(delivered.count == 20_000)
    let indices = delivered.map { index(of: $0.bytes) }
    #expect(Set(indices).count == 20_000)
    var inversions = 0
    for position in 1..<indices.count where indices[position] < indices[position - 1] {
      inversions += 1
    }
    #expect(inversions > 1_000)
    // A held frame comes 1 ms late (twice the 500 µs minimum): never earlier, and the
    // others come at once.
    var late = 0
    for entry in delivered {
      let sent = Instant(nanoseconds: Int64(index(of: entry.bytes)) * 1000)
      let wait = entry.at - sent
      if wait >= .milliseconds(1) {
        late += 1
      } else {
        #expect(wait == .zero)
      }
    }
    #expect(late == Int(impairer.framesReordered))
  }

  @Test func delayHoldsEveryFrame() throws {
    var impairer = FrameImpairer(
      configuration: try ImpairmentConfiguration(parsing: "delay=2ms"), seed: 1)
    let start = Instant(nanoseconds: 1_000_000_000)
    for index in 0..<3 {
      let bytes = frame(index)
      impairer.submit(bytes.span, now: start + .microseconds(Int64(index) * 100))
    }
    #expect(impairer.count == 3)
    #expect(impairer.nextDeadline == start + .milliseconds(2))
    var delivered: [Int] = []
    impairer.release(now: start + .microseconds(1999)) {
      delivered.append(index(of: $0.withBytes { $0.copyToArray() }))
    }
    #expect(delivered.isEmpty)
    impairer.release(now: start + .milliseconds(2)) {
      delivered.append(index(of: $0.withBytes { $0.copyToArray() }))
    }
    #expect(delivered == [0])
    #expect(impairer.nextDeadline == start + .microseconds(2100))
    impairer.release(now: start + .seconds(1)) {
      delivered.append(index(of: $0.withBytes { $0.copyToArray() }))
    }
    #expect(delivered == [0, 1, 2])
    #expect(impairer.nextDeadline == nil)
  }

  @Test func heldFramesAreBounded() throws {
    var impairer = FrameImpairer(
      configuration: try ImpairmentConfiguration(parsing: "delay=1ms"), seed: 1, limit: 3)
    for index in 0..<5 {
      let bytes = frame(index)
      impairer.submit(bytes.span, now: .zero)
    }
    #expect(impairer.count == 3)
    #expect(impairer.framesOverflowed == 2)
    var delivered: [Int] = []
    impairer.release(now: .zero + .milliseconds(1)) {
      delivered.append(index(of: $0.withBytes { $0.copyToArray() }))
    }
    #expect(delivered == [0, 1, 2])
  }

  /// The same seed replays the same run exactly; another seed does not.
  @Test func sameSeedReplaysExactly() throws {
    let text = "loss=5%,reorder=5%,duplicate=5%,corrupt=5%,delay=100us"
    let first = try run(text, seed: 99, count: 5000)
    let second = try run(text, seed: 99, count: 5000)
    #expect(first.delivered.count == second.delivered.count)
    #expect(first.delivered.map(\.bytes) == second.delivered.map(\.bytes))
    #expect(first.delivered.map(\.at) == second.delivered.map(\.at))
    #expect(first.impairer.framesDropped == second.impairer.framesDropped)
    #expect(first.impairer.framesDuplicated == second.impairer.framesDuplicated)
    #expect(first.impairer.framesCorrupted == second.impairer.framesCorrupted)
    #expect(first.impairer.framesReordered == second.impairer.framesReordered)
    let other = try run(text, seed: 100, count: 5000)
    #expect(other.delivered.map(\.bytes) != first.delivered.map(\.bytes))
  }
}
