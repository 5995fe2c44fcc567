import IPv6
import NetCore
import Testing

/// Putting fragments back together (RFC 8200 §4.5): orders, duplicates, overlaps (RFC 5722),
/// the length rules, limits and the timeout.
struct IPv6ReassemblerTests {
  let source = LinuxCaptures.globalA
  let destination = LinuxCaptures.globalB

  enum Result: Equatable {
    case incomplete
    case complete([UInt8])
    case duplicate
    case dropped(IPv6Reassembler.DropReason)
    case parameterProblem(Int)
  }

  /// Adds a whole fragment packet (fixed header, fragment header, data).
  func add(_ bytes: [UInt8], to reassembler: inout IPv6Reassembler, at now: Instant = .zero)
    -> Result
  {
    let packet = try! IPv6Packet(checking: bytes.span)
    let walk = IPv6ExtensionHeaderWalker().walk(
      packet.bytes, from: .start(nextHeader: packet.nextHeader), destinationIsMulticast: false)
    guard case .fragment(let header, let offset, let field, _) = walk else {
      Issue.record("not a fragment: \(walk)")
      return .incomplete
    }
    switch reassembler.add(
      packet.bytes, header: header, fragmentHeaderOffset: offset, nextHeaderFieldOffset: field,
      now: now)
    {
    case .incomplete: return .incomplete
    case .complete(let buffer): return .complete(buffer.withBytes { $0.copyToArray() })
    case .duplicate: return .duplicate
    case .dropped(let reason): return .dropped(reason)
    case .parameterProblem(let pointer): return .parameterProblem(pointer)
    }
  }

  /// A fragment of packet `id`: `data` at `offset`, more fragments when `more`.
  func fragment(
    id: UInt32 = 7, offset: Int, _ data: [UInt8], more: Bool, next: IPv6NextHeader = .udp,
    from: IPv6Address? = nil
  ) -> [UInt8] {
    var fragmentHeader = [UInt8](repeating: 0, count: 8)
    var span = fragmentHeader.mutableSpan
    IPv6FragmentHeader(
      nextHeader: next, fragmentOffset: offset, moreFragments: more, identification: id
    ).emit(into: &span, at: 0)
    _ = consume span
    return ipv6Packet(
      IPv6Header(
        source: from ?? source, destination: destination, nextHeader: .fragment,
        payloadLength: 0),
      payload: fragmentHeader + data)
  }

  /// `data` cut into fragments of `size` bytes (a multiple of 8).
  func split(_ data: [UInt8], size: Int, id: UInt32 = 7) -> [[UInt8]] {
    stride(from: 0, to: data.count, by: size).map { offset in
      let end = min(offset + size, data.count)
      return fragment(id: id, offset: offset, Array(data[offset..<end]), more: end < data.count)
    }
  }

  func expectWhole(_ whole: [UInt8], data: [UInt8], next: IPv6NextHeader = .udp) throws {
    let packet = try IPv6Packet(checking: whole.span)
    #expect(packet.nextHeader == next)
    #expect(packet.payload.copyToArray() == data)
    #expect(packet.source == source && packet.destination == destination)
  }

  @Test func capturedFragmentsInEitherOrder() throws {
    let pieces = [
      LinuxCaptures.fragmentedEchoRequest0, LinuxCaptures.fragmentedEchoRequest1,
      LinuxCaptures.fragmentedEchoRequest2,
    ]
    for order in [pieces, pieces.reversed(), [pieces[1], pieces[2], pieces[0]]] {
      var reassembler = IPv6Reassembler()
      #expect(add(order[0], to: &reassembler) == .incomplete)
      #expect(add(order[1], to: &reassembler) == .incomplete)
      guard case .complete(let whole) = add(order[2], to: &reassembler) else {
        Issue.record("not complete")
        return
      }
      let packet = try IPv6Packet(checking: whole.span)
      // The 4008-byte echo request, whole, its checksum right.
      #expect(packet.nextHeader == .icmpv6 && packet.payloadLength == 4008)
      let message = try ICMPv6Packet(
        checking: packet.payload, source: packet.source, destination: packet.destination)
      #expect(message.type == .echoRequest && message.body.count == 4000)
      #expect(reassembler.count == 0 && reassembler.bytesHeld == 0)
    }
  }

  @Test(arguments: 0..<30)
  func randomOrderWithDuplicates(seed: Int) throws {
    var random = PseudoRandomGenerator(seed: UInt64(seed))
    let size = (Int(random.next(below: 150)) + 1) * 8
    let length = size + 1 + Int(random.next(below: UInt64(min(20000, size * 200))))
    let data = randomBytes(length, &random)
    var fragments = split(data, size: size)
    for _ in 0..<Int(random.next(below: 4)) {
      fragments.append(fragments[Int(random.next(below: UInt64(fragments.count)))])
    }
    fragments.shuffle(using: &random)
    var reassembler = IPv6Reassembler()
    var completions = 0
    for bytes in fragments {
      switch add(bytes, to: &reassembler) {
      case .complete(let whole):
        completions += 1
        try expectWhole(whole, data: data)
      case .incomplete, .duplicate: break
      default: Issue.record("unexpected outcome")
      }
    }
    #expect(completions == 1)
  }

  @Test func keepsTheUnfragmentablePart() throws {
    // A destination options header before the fragment header stays in the packet, its next
    // header now the fragment's.
    let options: [UInt8] = [44, 0, 0x1e, 4, 0, 0, 0, 0]
    func piece(_ offset: Int, _ data: [UInt8], more: Bool) -> [UInt8] {
      var header = [UInt8](repeating: 0, count: 8)
      var span = header.mutableSpan
      IPv6FragmentHeader(
        nextHeader: .udp, fragmentOffset: offset, moreFragments: more, identification: 9
      )
      .emit(into: &span, at: 0)
      _ = consume span
      return ipv6Packet(
        IPv6Header(
          source: source, destination: destination, nextHeader: .destinationOptions,
          payloadLength: 0),
        payload: options + header + data)
    }
    var reassembler = IPv6Reassembler()
    let data = [UInt8](1...24)
    #expect(add(piece(8, Array(data[8...]), more: false), to: &reassembler) == .incomplete)
    guard case .complete(let whole) = add(piece(0, Array(data[..<8]), more: true), to: &reassembler)
    else {
      Issue.record("not complete")
      return
    }
    let packet = try IPv6Packet(checking: whole.span)
    #expect(packet.nextHeader == .destinationOptions)
    #expect(packet.payloadLength == 8 + 24)
    #expect(Array(whole[40..<48]) == [17, 0, 0x1e, 4, 0, 0, 0, 0])
    #expect(Array(whole[48...]) == data)
  }

  @Test func overlapDiscardsThePacketAndItsLaterFragments() {
    var reassembler = IPv6Reassembler()
    let data = [UInt8](repeating: 0xab, count: 64)
    #expect(
      add(fragment(offset: 0, Array(data[..<32]), more: true), to: &reassembler) == .incomplete)
    // Overlapping by 8 bytes (RFC 5722: the whole packet goes).
    #expect(
      add(fragment(offset: 24, Array(data[24..<48]), more: true), to: &reassembler)
        == .dropped(.overlap))
    #expect(
      add(fragment(offset: 32, Array(data[32...]), more: false), to: &reassembler)
        == .dropped(.discarded))
    #expect(reassembler.bytesHeld == 0)
    // The key is kept until the timeout, then forgotten: no time exceeded for it.
    #expect(reassembler.poll(now: at(61)).isEmpty)
    #expect(reassembler.count == 0)
  }

  @Test func exactDuplicateIsIgnored() {
    var reassembler = IPv6Reassembler()
    let first = fragment(offset: 0, [UInt8](repeating: 1, count: 16), more: true)
    #expect(add(first, to: &reassembler) == .incomplete)
    #expect(add(first, to: &reassembler) == .duplicate)
  }

  @Test func lengthRulesAskForParameterProblems() {
    var reassembler = IPv6Reassembler()
    // Not the last and not a multiple of 8: pointer to the payload length (4).
    #expect(
      add(fragment(offset: 0, [1, 2, 3], more: true), to: &reassembler) == .parameterProblem(4))
    // Offset plus length past 65535: pointer to the fragment offset field (40 + 2).
    #expect(
      add(fragment(offset: 65528, [UInt8](repeating: 0, count: 16), more: false), to: &reassembler)
        == .parameterProblem(42))
    // The last fragment may end anywhere.
    #expect(add(fragment(offset: 8, [1, 2, 3], more: false), to: &reassembler) == .incomplete)
    // An empty fragment.
    #expect(add(fragment(id: 8, offset: 16, [], more: true), to: &reassembler) == .dropped(.empty))
  }

  @Test func contradictoryEnds() {
    var reassembler = IPv6Reassembler()
    #expect(
      add(fragment(offset: 16, [UInt8](repeating: 0, count: 8), more: false), to: &reassembler)
        == .incomplete)
    // A piece past the known end.
    #expect(
      add(fragment(offset: 24, [UInt8](repeating: 0, count: 8), more: true), to: &reassembler)
        == .dropped(.badFragment))
    var other = IPv6Reassembler()
    #expect(
      add(fragment(offset: 32, [UInt8](repeating: 0, count: 8), more: true), to: &other)
        == .incomplete)
    // A last fragment ending before a piece already held.
    #expect(
      add(fragment(offset: 0, [UInt8](repeating: 0, count: 8), more: false), to: &other)
        == .dropped(.badFragment))
  }

  @Test func tooLargeOnceTheUnfragmentablePartIsKnown() {
    // 8 bytes of destination options plus a fragmentable part ending at 65528: 65536 bytes.
    var reassembler = IPv6Reassembler()
    let options: [UInt8] = [44, 0, 1, 4, 0, 0, 0, 0]
    func piece(_ offset: Int, _ length: Int, more: Bool) -> [UInt8] {
      var header = [UInt8](repeating: 0, count: 8)
      var span = header.mutableSpan
      IPv6FragmentHeader(
        nextHeader: .udp, fragmentOffset: offset, moreFragments: more, identification: 3
      )
      .emit(into: &span, at: 0)
      _ = consume span
      return ipv6Packet(
        IPv6Header(
          source: source, destination: destination, nextHeader: .destinationOptions,
          payloadLength: 0),
        payload: options + header + [UInt8](repeating: 0, count: length))
    }
    #expect(add(piece(65520, 8, more: false), to: &reassembler) == .incomplete)
    #expect(add(piece(0, 8, more: true), to: &reassembler) == .dropped(.tooLarge))
  }

  @Test func timeoutHandsBackTheFirstFragment() {
    var reassembler = IPv6Reassembler()
    let first = fragment(offset: 0, [UInt8](repeating: 5, count: 16), more: true)
    #expect(add(first, to: &reassembler, at: at(1)) == .incomplete)
    #expect(reassembler.nextDeadline == at(61))
    #expect(reassembler.poll(now: at(60.9)).isEmpty)
    let expired = reassembler.poll(now: at(61))
    #expect(expired.count == 1)
    #expect(expired.first?.firstFragment == first)
    #expect(expired.first?.source == source)
    #expect(reassembler.count == 0 && reassembler.bytesHeld == 0)
    // Without the first fragment: dropped quietly.
    var other = IPv6Reassembler()
    _ = add(fragment(offset: 16, [UInt8](repeating: 5, count: 16), more: true), to: &other)
    #expect(other.poll(now: at(60)).isEmpty)
    #expect(other.count == 0)
  }

  @Test func packetLimitEvictsTheOldest() {
    var configuration = IPv6Reassembler.Configuration()
    configuration.maximumPackets = 2
    var reassembler = IPv6Reassembler(configuration: configuration)
    for id in UInt32(1)...3 {
      _ = add(
        fragment(id: id, offset: 0, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler,
        at: at(Double(id)))
    }
    #expect(reassembler.count == 2)
    #expect(reassembler.evictions == 1)
    // Packet 1 is gone: its last fragment starts a new one.
    #expect(
      add(fragment(id: 1, offset: 8, [1], more: false), to: &reassembler, at: at(4)) == .incomplete)
    // Packet 3 completes.
    guard
      case .complete = add(
        fragment(id: 3, offset: 8, [1], more: false), to: &reassembler, at: at(4))
    else {
      Issue.record("packet 3 not complete")
      return
    }
  }

  @Test func byteBoundEvictsTheOldestAndRefusesWhatCannotFit() {
    var configuration = IPv6Reassembler.Configuration()
    configuration.maximumBytes = 4096
    var reassembler = IPv6Reassembler(configuration: configuration)
    let kilobyte = [UInt8](repeating: 9, count: 1024)
    _ = add(fragment(id: 1, offset: 1024, kilobyte, more: true), to: &reassembler, at: at(1))
    _ = add(fragment(id: 1, offset: 2048, kilobyte, more: true), to: &reassembler, at: at(1))
    _ = add(fragment(id: 2, offset: 1024, kilobyte, more: true), to: &reassembler, at: at(2))
    #expect(reassembler.bytesHeld <= 4096)
    // A fourth kilobyte for packet 2 pushes packet 1 out.
    #expect(
      add(fragment(id: 2, offset: 2048, kilobyte, more: true), to: &reassembler, at: at(3))
        == .incomplete)
    #expect(reassembler.evictions >= 1)
    #expect(reassembler.bytesHeld <= 4096)
    // A fragment larger than the whole bound never fits.
    let big = [UInt8](repeating: 9, count: 4096)
    #expect(add(fragment(id: 3, offset: 0, big, more: true), to: &reassembler) == .dropped(.memory))
  }

  @Test func budgetIsChargedAndGivenBack() {
    let budget = MemoryBudget(limit: MemoryBudget.minimumLimit)
    var reassembler = IPv6Reassembler(budget: budget)
    _ = add(fragment(offset: 0, [UInt8](repeating: 1, count: 512), more: true), to: &reassembler)
    #expect(budget.used(for: .reassembly) == reassembler.bytesHeld)
    #expect(budget.used(for: .reassembly) > 512)
    _ = reassembler.poll(now: at(60))
    #expect(budget.used(for: .reassembly) == 0)
    // A full budget refuses the fragment.
    let full = MemoryBudget(limit: MemoryBudget.minimumLimit)
    full.charge(full.limit, for: .services)
    var refused = IPv6Reassembler(budget: full)
    #expect(
      add(fragment(offset: 0, [1, 2, 3, 4, 5, 6, 7, 8], more: true), to: &refused)
        == .dropped(.memory))
    #expect(refused.bytesHeld == 0)
  }

  @Test func fragmentLimitPerPacket() {
    var configuration = IPv6Reassembler.Configuration()
    configuration.maximumFragments = 4
    var reassembler = IPv6Reassembler(configuration: configuration)
    for index in 0..<4 {
      #expect(
        add(
          fragment(offset: index * 8, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler
        ) == .incomplete)
    }
    #expect(
      add(fragment(offset: 32, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler)
        == .dropped(.badFragment))
  }

  @Test func fragmentsAreKeyedBySourceToo() {
    var reassembler = IPv6Reassembler()
    let other = LinuxCaptures.globalR
    #expect(
      add(fragment(offset: 0, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler)
        == .incomplete)
    #expect(
      add(fragment(offset: 8, [2], more: false, from: other), to: &reassembler) == .incomplete)
    #expect(reassembler.count == 2)
  }
}
