import IPv4
import NetCore
import Testing

/// Putting fragments back together: orders, duplicates, overlaps, bad offsets, limits, timeouts.
struct IPv4ReassemblerTests {
  let source = IPv4Address(10, 77, 0, 1)
  let destination = IPv4Address(10, 77, 0, 2)

  /// One fragment of datagram `id`: `payload` at `offset`, MF set when `more`.
  func fragment(
    id: UInt16 = 0x1234, offset: Int, _ payload: [UInt8], more: Bool,
    protocolNumber: IPProtocolNumber = .udp, options: [UInt8] = []
  ) -> [UInt8] {
    var bytes = ipv4Packet(
      IPv4Header(
        source: source, destination: destination, protocolNumber: protocolNumber,
        payloadLength: payload.count, identification: id, moreFragments: more,
        fragmentOffset: offset),
      payload: payload)
    if !options.isEmpty {
      bytes.insert(contentsOf: options, at: 20)
      bytes[0] = 0x40 | UInt8((20 + options.count) / 4)
      let total = bytes.count
      bytes[2] = UInt8(total >> 8)
      bytes[3] = UInt8(total & 0xFF)
      fixHeaderChecksum(&bytes)
    }
    return bytes
  }

  /// Splits `payload` into fragments of `size` bytes (a multiple of 8).
  func split(_ payload: [UInt8], size: Int, id: UInt16 = 0x1234) -> [[UInt8]] {
    stride(from: 0, to: payload.count, by: size).map { offset in
      let end = min(offset + size, payload.count)
      return fragment(
        id: id, offset: offset, Array(payload[offset..<end]), more: end < payload.count)
    }
  }

  enum Result: Equatable {
    case incomplete
    case complete([UInt8])
    case duplicate
    case dropped(IPv4Reassembler.DropReason)
  }

  func add(_ bytes: [UInt8], to reassembler: inout IPv4Reassembler, at now: Instant = .zero)
    -> Result
  {
    let packet = try! IPv4Packet(checking: bytes.span)
    switch reassembler.add(packet, now: now) {
    case .incomplete: return .incomplete
    case .complete(let buffer): return .complete(buffer.withBytes { $0.copyToArray() })
    case .duplicate: return .duplicate
    case .dropped(let reason): return .dropped(reason)
    }
  }

  /// Checks that `whole` is the unfragmented datagram carrying `payload`.
  func expectWhole(_ whole: [UInt8], payload: [UInt8], id: UInt16 = 0x1234) throws {
    let packet = try IPv4Packet(checking: whole.span)
    #expect(packet.payload.copyToArray() == payload)
    #expect(packet.totalLength == 20 + payload.count)
    #expect(packet.identification == id)
    #expect(packet.isFragment == false)
    #expect(packet.source == source && packet.destination == destination)
  }

  func seconds(_ value: Double) -> Instant { Instant(nanoseconds: Int64(value * 1e9)) }

  @Test func inOrder() throws {
    var random = PseudoRandomGenerator(seed: 1)
    let payload = randomBytes(3000, &random)
    var reassembler = IPv4Reassembler()
    let fragments = split(payload, size: 1480)
    #expect(add(fragments[0], to: &reassembler) == .incomplete)
    #expect(add(fragments[1], to: &reassembler) == .incomplete)
    guard case .complete(let whole) = add(fragments[2], to: &reassembler) else {
      Issue.record("not complete")
      return
    }
    try expectWhole(whole, payload: payload)
    #expect(reassembler.count == 0)
    #expect(reassembler.bytesHeld == 0)
    #expect(reassembler.nextDeadline == nil)
  }

  @Test func reverseOrder() throws {
    var random = PseudoRandomGenerator(seed: 2)
    let payload = randomBytes(1001, &random)
    var reassembler = IPv4Reassembler()
    var results = split(payload, size: 64).reversed().map { add($0, to: &reassembler) }
    guard case .complete(let whole) = results.removeLast() else {
      Issue.record("not complete")
      return
    }
    #expect(results.allSatisfy { $0 == .incomplete })
    try expectWhole(whole, payload: payload)
  }

  @Test(arguments: 0..<40)
  func randomOrderWithDuplicates(seed: Int) throws {
    var random = PseudoRandomGenerator(seed: UInt64(seed))
    let size = (Int(random.next(below: 100)) + 1) * 8
    // At least two fragments, at most the 256 a datagram may come in.
    let length = size + 1 + Int(random.next(below: UInt64(min(8000, size * 200))))
    let payload = randomBytes(length, &random)
    let pieces = split(payload, size: size)
    var fragments = pieces
    // Some exact duplicates, anywhere.
    for _ in 0..<Int(random.next(below: 4)) {
      fragments.append(fragments[Int(random.next(below: UInt64(fragments.count)))])
    }
    fragments.shuffle(using: &random)
    var reassembler = IPv4Reassembler()
    var completions: [[UInt8]] = []
    var seen = Set<[UInt8]>()
    for bytes in fragments {
      let result = add(bytes, to: &reassembler)
      if case .complete(let whole) = result {
        completions.append(whole)
        seen.removeAll()
        continue
      } else if seen.contains(bytes) {
        #expect(result == .duplicate)
      } else {
        #expect(result == .incomplete)
      }
      seen.insert(bytes)
    }
    // Duplicates that arrive after completion may make the datagram once more, never wrong.
    #expect(completions.count >= 1)
    for whole in completions { try expectWhole(whole, payload: payload) }
  }

  @Test func unfragmentedSizedSingleFragment() throws {
    // Offset 0 without MF is not a fragment, but one with only MF clear at offset 8 is the
    // last piece: the datagram needs both.
    var reassembler = IPv4Reassembler()
    #expect(
      add(fragment(offset: 8, [UInt8](repeating: 2, count: 5), more: false), to: &reassembler)
        == .incomplete)
    guard
      case .complete(let whole) = add(
        fragment(offset: 0, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler)
    else {
      Issue.record("not complete")
      return
    }
    try expectWhole(whole, payload: [1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
  }

  @Test func exactDuplicatesAreIgnored() throws {
    var reassembler = IPv4Reassembler()
    let first = fragment(offset: 0, [UInt8](repeating: 1, count: 16), more: true)
    let last = fragment(offset: 16, [UInt8](repeating: 2, count: 4), more: false)
    #expect(add(first, to: &reassembler) == .incomplete)
    #expect(add(first, to: &reassembler) == .duplicate)
    #expect(add(first, to: &reassembler) == .duplicate)
    guard case .complete(let whole) = add(last, to: &reassembler) else {
      Issue.record("not complete")
      return
    }
    try expectWhole(whole, payload: [UInt8](repeating: 1, count: 16) + [2, 2, 2, 2])
  }

  /// RFC 5722's caution: a partial overlap discards the whole datagram and what follows.
  @Test(arguments: [
    (0, 8),  // same start, shorter
    (8, 16),  // inside
    (0, 24),  // same start, longer
    (16, 24),  // straddles the end
  ])
  func partialOverlapDiscardsTheDatagram(start: Int, end: Int) {
    var reassembler = IPv4Reassembler()
    #expect(
      add(fragment(offset: 0, [UInt8](repeating: 1, count: 24), more: true), to: &reassembler)
        == .incomplete)
    #expect(
      add(
        fragment(offset: start, [UInt8](repeating: 9, count: end - start), more: true),
        to: &reassembler)
        == (start == 0 && end == 24 ? .duplicate : .dropped(.overlap)))
    if start == 0 && end == 24 { return }
    // Every later fragment of it is swallowed, even ones that would complete it.
    #expect(
      add(fragment(offset: 24, [UInt8](repeating: 2, count: 8), more: false), to: &reassembler)
        == .dropped(.discarded))
    #expect(reassembler.bytesHeld == 0)
    #expect(reassembler.count == 1)
    // Other datagrams are not affected.
    #expect(
      add(fragment(id: 7, offset: 0, [1, 2, 3, 4, 5, 6, 7, 8], more: true), to: &reassembler)
        == .incomplete)
  }

  @Test func overlapWithALaterPieceIsCaught() {
    var reassembler = IPv4Reassembler()
    #expect(
      add(fragment(offset: 16, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler)
        == .incomplete)
    #expect(
      add(fragment(offset: 32, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler)
        == .incomplete)
    #expect(
      add(fragment(offset: 8, [UInt8](repeating: 9, count: 32), more: true), to: &reassembler)
        == .dropped(.overlap))
  }

  @Test func discardedDatagramIsForgottenAfterTheTimeout() throws {
    var reassembler = IPv4Reassembler()
    _ = add(fragment(offset: 0, [UInt8](repeating: 1, count: 16), more: true), to: &reassembler)
    _ = add(fragment(offset: 8, [UInt8](repeating: 1, count: 16), more: true), to: &reassembler)
    #expect(reassembler.nextDeadline == seconds(30))
    // Discarded datagrams produce no time-exceeded quote.
    #expect(reassembler.poll(now: seconds(30)).isEmpty)
    #expect(reassembler.count == 0)
    let first = fragment(offset: 0, [UInt8](repeating: 1, count: 8), more: true)
    let last = fragment(offset: 8, [UInt8](repeating: 2, count: 8), more: false)
    #expect(add(first, to: &reassembler, at: seconds(31)) == .incomplete)
    guard case .complete = add(last, to: &reassembler, at: seconds(31)) else {
      Issue.record("not complete")
      return
    }
  }

  @Test func badOffsetsAndLengths() {
    // Past 65535 bytes of datagram: offset 65528 with 8 bytes.
    var reassembler = IPv4Reassembler()
    #expect(
      add(fragment(offset: 65528, [UInt8](repeating: 0, count: 8), more: false), to: &reassembler)
        == .dropped(.badFragment))
    // A middle fragment whose length is not a multiple of 8.
    var middle = IPv4Reassembler()
    #expect(
      add(fragment(offset: 0, [UInt8](repeating: 0, count: 12), more: true), to: &middle)
        == .dropped(.badFragment))
    // An empty fragment.
    var empty = IPv4Reassembler()
    #expect(add(fragment(offset: 8, [], more: true), to: &empty) == .dropped(.badFragment))
    // The last byte of the largest datagram is fine.
    var largest = IPv4Reassembler()
    #expect(
      add(fragment(offset: 65512, [UInt8](repeating: 0, count: 3), more: false), to: &largest)
        == .incomplete)
  }

  @Test func inconsistentLastFragments() {
    // Two different ends.
    var twoEnds = IPv4Reassembler()
    #expect(add(fragment(offset: 16, [1, 2, 3], more: false), to: &twoEnds) == .incomplete)
    #expect(
      add(fragment(offset: 24, [1, 2, 3], more: false), to: &twoEnds) == .dropped(.badFragment))
    // An end before data already received.
    var shortEnd = IPv4Reassembler()
    #expect(
      add(fragment(offset: 32, [UInt8](repeating: 0, count: 8), more: true), to: &shortEnd)
        == .incomplete)
    #expect(
      add(fragment(offset: 8, [1, 2, 3], more: false), to: &shortEnd) == .dropped(.badFragment))
    // Data past a known end.
    var pastEnd = IPv4Reassembler()
    #expect(add(fragment(offset: 8, [1, 2, 3], more: false), to: &pastEnd) == .incomplete)
    #expect(
      add(fragment(offset: 16, [UInt8](repeating: 0, count: 8), more: true), to: &pastEnd)
        == .dropped(.badFragment))
  }

  /// A first fragment with 40 bytes of options and a last fragment with a 20-byte header that
  /// ends at byte 65515 of payload would make a datagram of 65555 bytes: refused, not trapped.
  @Test func datagramLongerThan65535WithOptionsIsRefused() {
    var reassembler = IPv4Reassembler()
    let options = [UInt8](repeating: 1, count: 40)  // NOPs
    let size = 65000
    var results: [Result] = []
    for offset in stride(from: 0, to: 65512, by: size) {
      let end = min(offset + size, 65515)
      let payload = [UInt8](repeating: 7, count: end - offset)
      results.append(
        add(
          fragment(
            offset: offset, payload, more: end < 65515, options: offset == 0 ? options : []),
          to: &reassembler))
    }
    #expect(results.first == .incomplete)
    #expect(results.last == .dropped(.badFragment))
    // The same with a 20-byte first header completes.
    var plain = IPv4Reassembler()
    _ = add(fragment(offset: 0, [UInt8](repeating: 7, count: 65000), more: true), to: &plain)
    guard
      case .complete(let whole) = add(
        fragment(offset: 65000, [UInt8](repeating: 7, count: 515), more: false), to: &plain)
    else {
      Issue.record("not complete")
      return
    }
    #expect(whole.count == 65535)
  }

  @Test func firstFragmentOptionsAreKept() throws {
    var reassembler = IPv4Reassembler()
    let options: [UInt8] = [0x94, 0x04, 0x00, 0x00]  // Router Alert
    _ = add(
      fragment(offset: 0, [UInt8](repeating: 1, count: 8), more: true, options: options),
      to: &reassembler)
    guard
      case .complete(let whole) = add(fragment(offset: 8, [2, 2], more: false), to: &reassembler)
    else {
      Issue.record("not complete")
      return
    }
    let packet = try IPv4Packet(checking: whole.span)
    #expect(packet.headerLength == 24)
    #expect(packet.totalLength == 34)
    #expect(Array(whole[20..<24]) == options)
    #expect(packet.payload.copyToArray() == [1, 1, 1, 1, 1, 1, 1, 1, 2, 2])
  }

  @Test func timeoutReportsTheFirstFragmentForTimeExceeded() {
    var reassembler = IPv4Reassembler()
    let payload: [UInt8] = Array(1...24)
    let first = fragment(offset: 0, Array(payload[0..<16]), more: true)
    #expect(add(first, to: &reassembler, at: seconds(1)) == .incomplete)
    #expect(reassembler.nextDeadline == seconds(31))
    #expect(reassembler.poll(now: seconds(30.9)).isEmpty)
    let expired = reassembler.poll(now: seconds(31))
    #expect(expired.count == 1)
    #expect(expired.first?.firstHeader?.identification == 0x1234)
    #expect(expired.first?.firstHeader?.moreFragments == true)
    #expect(expired.first?.quote == Array(first[0..<28]))  // header and 8 payload bytes
    #expect(expired.first?.firstPayloadByte == 1)
    #expect(reassembler.count == 0)
    #expect(reassembler.nextDeadline == nil)
  }

  @Test func timeoutWithoutTheFirstFragmentHasNoQuote() {
    var reassembler = IPv4Reassembler()
    _ = add(fragment(offset: 8, [1, 2], more: false), to: &reassembler)
    let expired = reassembler.poll(now: seconds(30))
    #expect(expired.count == 1)
    #expect(expired.first?.firstHeader == nil)
    #expect(expired.first?.quote == [])
    #expect(expired.first?.firstPayloadByte == nil)
  }

  @Test func evictsTheOldestWhenFull() {
    var configuration = IPv4Reassembler.Configuration()
    configuration.maximumDatagrams = 2
    var reassembler = IPv4Reassembler(configuration: configuration)
    _ = add(
      fragment(id: 1, offset: 0, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler,
      at: seconds(1))
    _ = add(
      fragment(id: 2, offset: 0, [UInt8](repeating: 2, count: 8), more: true), to: &reassembler,
      at: seconds(2))
    #expect(reassembler.bytesHeld == 2 * (60 + 65535))
    _ = add(
      fragment(id: 3, offset: 0, [UInt8](repeating: 3, count: 8), more: true), to: &reassembler,
      at: seconds(3))
    #expect(reassembler.count == 2)
    #expect(reassembler.evictions == 1)
    // Datagram 1 is gone: its last fragment alone does not complete it.
    #expect(
      add(fragment(id: 1, offset: 8, [1], more: false), to: &reassembler, at: seconds(4))
        == .incomplete)
    #expect(reassembler.evictions == 2)  // datagram 2 made room for it
    guard case .complete = add(fragment(id: 3, offset: 8, [3], more: false), to: &reassembler)
    else {
      Issue.record("datagram 3 should complete")
      return
    }
  }

  @Test func fragmentCountIsLimited() {
    var configuration = IPv4Reassembler.Configuration()
    configuration.maximumFragments = 4
    var reassembler = IPv4Reassembler(configuration: configuration)
    for index in 0..<4 {
      #expect(
        add(
          fragment(offset: index * 8, [UInt8](repeating: 1, count: 8), more: true), to: &reassembler
        ) == .incomplete)
    }
    #expect(
      add(fragment(offset: 32, [UInt8](repeating: 1, count: 8), more: false), to: &reassembler)
        == .dropped(.badFragment))
    #expect(reassembler.bytesHeld == 0)
  }

  /// A flood of distinct fragments keeps memory at the configured bound.
  @Test func floodStaysBounded() {
    var reassembler = IPv4Reassembler()
    var random = PseudoRandomGenerator(seed: 3)
    for index in 0..<2000 {
      let offset = Int(random.next(below: 100)) * 8
      _ = add(
        fragment(
          id: UInt16(truncatingIfNeeded: random.next()), offset: offset, [1, 2, 3, 4, 5, 6, 7, 8],
          more: true),
        to: &reassembler, at: Instant(nanoseconds: Int64(index)))
      #expect(reassembler.count <= 16)
    }
    #expect(reassembler.bytesHeld <= 16 * (60 + 65535))
  }
}
