import IPv4
import NetCore
import NetSimulation
import NetStack
import Testing

/// Two stacks over an in-memory link ping each other, with and without a lossy, reordering,
/// duplicating link: deterministic, in virtual time.
struct SimulatedPingTests {
  static let leftAddress = IPv4Address(10, 0, 0, 1)
  static let rightAddress = IPv4Address(10, 0, 0, 2)

  static func network(impairment: ImpairmentConfiguration, seed: UInt64) -> SimulatedNetwork {
    SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: IPv4CIDR(address: leftAddress, prefixLength: 24), seed: seed),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: IPv4CIDR(address: rightAddress, prefixLength: 24), seed: seed &+ 100),
      impairment: impairment, seed: seed)
  }

  /// Sends `count` echo requests of `size` bytes from left to right, one every 10 ms, and
  /// returns the replies that came back within a second of the last request.
  static func ping(
    count: Int, size: Int, impairment: ImpairmentConfiguration, seed: UInt64
  ) -> (replies: [ICMPv4EchoReply], network: SimulatedNetwork) {
    var network = network(impairment: impairment, seed: seed)
    let payload = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
      for index in 0..<size { buffer[index] = UInt8(truncatingIfNeeded: index &* 7) }
      initialized = size
    }
    // Resolve the neighbour first (ARP itself may be lost), so that the pings measure the
    // link and not the pending queue in front of an unresolved address.
    for _ in 0..<20
    where network.left.ipv4.link.cache.entry(for: rightAddress)?.state.hardwareAddress == nil {
      try? network.left.ipv4.sendEchoRequest(
        to: rightAddress, identifier: 0x4241, sequence: 0, payload: [UInt8]().span, now: network.now
      )
      network.run(until: network.now + .milliseconds(500))
    }
    network.run(until: network.now + .milliseconds(100))
    network.left.ipv4.echoReplies.removeAll()
    var replies: [ICMPv4EchoReply] = []
    let start = network.now
    for sequence in 0..<count {
      let sendAt = start + .milliseconds(Int64(10 * sequence))
      network.run(until: sendAt)
      try? network.left.ipv4.sendEchoRequest(
        to: rightAddress, identifier: 0x4242, sequence: UInt16(sequence), payload: payload.span,
        now: network.now)
      while let reply = network.left.ipv4.echoReplies.popFirst() { replies.append(reply) }
    }
    network.run(until: network.now + .seconds(1))
    while let reply = network.left.ipv4.echoReplies.popFirst() { replies.append(reply) }
    return (replies, network)
  }

  @Test func cleanLinkAnswersEveryPing() {
    let (replies, _) = Self.ping(
      count: 50, size: 56, impairment: ImpairmentConfiguration(), seed: 1)
    #expect(replies.count == 50)
    #expect(Set(replies.map(\.sequence)) == Set((0..<50).map { UInt16($0) }))
    #expect(replies.allSatisfy { $0.source == Self.rightAddress && $0.payloadLength == 56 })
  }

  @Test(arguments: [4000, 65000])
  func fragmentedPingsCrossACleanLink(size: Int) {
    let (replies, network) = Self.ping(
      count: 5, size: size, impairment: ImpairmentConfiguration(), seed: 2)
    #expect(replies.count == 5)
    #expect(replies.allSatisfy { $0.payloadLength == size })
    #expect(network.right.ipv4.counters.datagramsReassembled == 5)
    #expect(network.left.ipv4.counters.datagramsReassembled == 5)
  }

  /// 10% loss, 10% reordering, 2% duplication each way: most pings are answered, every
  /// answer is one we asked for, and the same seed replays exactly.
  @Test(arguments: Array(UInt64(1)...UInt64(40)))
  func lossyReorderingLinkStillAnswers(seed: UInt64) throws {
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 100_000
    impairment.reorderPerMillion = 100_000
    impairment.duplicatePerMillion = 20_000
    impairment.delay = .milliseconds(1)
    let (replies, network) = Self.ping(count: 100, size: 100, impairment: impairment, seed: seed)
    let sequences = replies.map(\.sequence)
    // Duplicated requests or replies may produce a second reply; each is one we sent.
    #expect(sequences.allSatisfy { $0 < 100 }, "seed \(seed)")
    let distinct = Set(sequences).count
    // Each ping crosses the link twice: about 81% should make it; far fewer means a bug.
    #expect(distinct >= 60, "seed \(seed): only \(distinct) of 100 pings answered")
    #expect(network.impairmentSummary.dropped > 0, "seed \(seed): the link dropped nothing")
    let again = Self.ping(count: 100, size: 100, impairment: impairment, seed: seed)
    #expect(again.replies == replies, "seed \(seed) did not replay identically")
  }

  /// Fragmented pings through a lossy, reordering link: a lost fragment loses the datagram,
  /// never corrupts it; what is reassembled is whole.
  @Test(arguments: Array(UInt64(1)...UInt64(10)))
  func fragmentedPingsSurviveReordering(seed: UInt64) {
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 10_000
    impairment.reorderPerMillion = 200_000
    impairment.delay = .microseconds(200)
    let (replies, network) = Self.ping(count: 20, size: 8000, impairment: impairment, seed: seed)
    #expect(replies.allSatisfy { $0.payloadLength == 8000 }, "seed \(seed)")
    #expect(Set(replies.map(\.sequence)).count >= 10, "seed \(seed): \(replies.count) replies")
    #expect(network.right.ipv4.counters.reassemblyOverlaps == 0, "seed \(seed)")
  }

  /// Corrupted frames are dropped by checksums, never answered wrongly.
  @Test func corruptionIsCaughtByChecksums() {
    var impairment = ImpairmentConfiguration()
    impairment.corruptPerMillion = 300_000
    let (replies, network) = Self.ping(count: 100, size: 200, impairment: impairment, seed: 7)
    #expect(replies.allSatisfy { $0.payloadLength == 200 && $0.sequence < 100 })
    let rightCounters = network.right.ipv4.counters
    let icmp = network.right.ipv4.icmpCounters
    let caught =
      rightCounters.droppedBadChecksum + icmp.droppedBadChecksum
      + network.right.ipv4.link.ethernetCounters.droppedNotForUs
      + network.right.ipv4.link.ethernetCounters.droppedNotJoined
      + network.right.ipv4.link.ethernetCounters.droppedBadSource
    #expect(caught > 0)
    #expect(replies.count < 100)
  }
}
