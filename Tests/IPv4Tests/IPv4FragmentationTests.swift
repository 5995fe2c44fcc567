import IPv4
import NetCore
import Testing

/// Sending: next hops, header fields, fragmentation (RFC 791 §3.2) and its limits.
struct IPv4FragmentationTests {
  typealias C = LinuxCaptures

  func send(
    _ payload: [UInt8], to destination: IPv4Address = C.va,
    options: IPv4SendOptions = IPv4SendOptions(), _ layer: inout IPv4Layer<RecordingLink>
  ) throws(IPv4SendError) {
    try layer.send(
      buffer(payload), protocolNumber: .udp, to: destination, options: options, now: .zero)
  }

  @Test func sendsOneDatagramWithinTheMTU() throws {
    var layer = makeLayer(identificationSeed: 99)
    let payload = [UInt8](repeating: 0x42, count: 1480)
    try send(payload, options: IPv4SendOptions(dontFragment: true, typeOfService: 0x10), &layer)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.nextHop == C.va)
    let bytes = try #require(sent.first).bytes
    let packet = try IPv4Packet(checking: bytes.span)
    #expect(packet.totalLength == 1500)
    #expect(packet.source == C.vb && packet.destination == C.va)
    #expect(packet.identification == 100)
    #expect(packet.dontFragment == true && packet.isFragment == false)
    #expect(packet.timeToLive == 64)
    #expect(packet.typeOfService == 0x10)
    #expect(packet.protocolNumber == .udp)
    #expect(packet.payload.copyToArray() == payload)
    #expect(layer.counters.packetsSent == 1 && layer.counters.fragmentsSent == 0)
  }

  @Test func identificationAdvancesAndWraps() throws {
    var layer = makeLayer(identificationSeed: 0xFFFE)
    for _ in 0..<3 { try send([1], &layer) }
    let ids = try layer.takeSent().map { sent in
      try IPv4Packet(checking: sent.bytes.span).identification
    }
    #expect(ids == [0xFFFF, 0, 1])
  }

  @Test func optionsOverrideSourceAndTTL() throws {
    var layer = makeLayer()
    layer.timeToLive = 17
    try send([1], &layer)
    try send(
      [1], options: IPv4SendOptions(source: IPv4Address(10, 77, 0, 99), timeToLive: 1), &layer)
    let sent = layer.takeSent()
    #expect(sent[0].bytes[8] == 17)
    #expect(sent[1].bytes[8] == 1)
    #expect(Array(sent[1].bytes[12..<16]) == [10, 77, 0, 99])
  }

  @Test func nextHopIsTheGatewayOffLink() throws {
    var layer = makeLayer(gateway: C.va)
    try send([1, 2, 3], to: IPv4Address(192, 0, 2, 7), &layer)
    let sent = layer.takeSent()
    #expect(sent.first?.nextHop == C.va)
    #expect(sent.first.map { Array($0.bytes[16..<20]) } == [192, 0, 2, 7])
  }

  @Test func noRoute() {
    var layer = makeLayer()
    #expect(throws: IPv4SendError.noRoute) { try send([1], to: IPv4Address(192, 0, 2, 7), &layer) }
    #expect(layer.counters.sendNoRoute == 1)
    // Broadcasts and multicasts need no route, even with no address at all.
    var bare = IPv4Layer(link: RecordingLink())
    #expect(throws: Never.self) { try send([1], to: .broadcast, &bare) }
    #expect(throws: Never.self) { try send([1], to: IPv4Address(224, 0, 0, 251), &bare) }
    let sent = bare.takeSent()
    #expect(sent.map(\.nextHop) == [.broadcast, IPv4Address(224, 0, 0, 251)])
    #expect(sent.allSatisfy { Array($0.bytes[12..<16]) == [0, 0, 0, 0] })
  }

  @Test func tooLargeForAnyDatagram() {
    var layer = makeLayer()
    #expect(throws: IPv4SendError.tooLarge) {
      try send([UInt8](repeating: 0, count: 65516), &layer)
    }
    #expect(throws: Never.self) { try send([UInt8](repeating: 0, count: 65515), &layer) }
    #expect(layer.counters.sendTooLarge == 1)
  }

  @Test func dontFragmentAndTooLargeThrows() {
    var layer = makeLayer()
    #expect(throws: IPv4SendError.tooLarge) {
      try send(
        [UInt8](repeating: 0, count: 1481), options: IPv4SendOptions(dontFragment: true), &layer)
    }
    #expect(layer.takeSent().isEmpty)
    #expect(layer.counters.sendTooLarge == 1)
  }

  /// Fragments of every MTU: offsets multiples of 8, MF on all but the last, each within the
  /// MTU, one identification, and reassembling them gives back the datagram.
  @Test(arguments: [68, 576, 1006, 1280, 1500, 9000])
  func fragmentsReassembleToTheOriginal(mtu: Int) throws {
    var random = PseudoRandomGenerator(seed: UInt64(mtu))
    for length in [mtu - 19, 2 * (mtu - 20), 3000, 65515] where length > mtu - 20 {
      var layer = makeLayer(identificationSeed: 0x4000, mtu: mtu)
      let payload = randomBytes(length, &random)
      try send(payload, &layer)
      let sent = layer.takeSent()
      let perFragment = (mtu - 20) / 8 * 8
      #expect(sent.count == (length + perFragment - 1) / perFragment)
      var configuration = IPv4Reassembler.Configuration()
      configuration.maximumFragments = 2000  // 65515 bytes in 48-byte pieces for MTU 68
      var reassembler = IPv4Reassembler(configuration: configuration)
      var whole: [UInt8]? = nil
      var expectedOffset = 0
      for (index, fragment) in sent.enumerated() {
        #expect(fragment.bytes.count <= mtu)
        #expect(fragment.nextHop == C.va)
        let packet = try IPv4Packet(checking: fragment.bytes.span)
        #expect(packet.identification == 0x4001)
        #expect(packet.fragmentOffset == expectedOffset)
        #expect(packet.fragmentOffset % 8 == 0)
        let isLast = index == sent.count - 1
        #expect(packet.moreFragments == !isLast)
        #expect(packet.dontFragment == false)
        if !isLast { #expect(packet.payload.count == perFragment) }
        expectedOffset += packet.payload.count
        if case .complete(let buffer) = reassembler.add(packet, now: .zero) {
          whole = buffer.withBytes { $0.copyToArray() }
        }
      }
      #expect(expectedOffset == length)
      let reassembled = try #require(whole)
      #expect(Array(reassembled[20...]) == payload)
      #expect(layer.counters.fragmentsSent == UInt64(sent.count))
      #expect(layer.counters.packetsSent == 1)
    }
  }

  @Test func segmentationOffloadIsNotFragmented() throws {
    var link = RecordingLink()
    link.supportsSegmentationOffload = true
    var layer = IPv4Layer(link: link)
    layer.configure(address: IPv4CIDR(address: C.vb, prefixLength: 24), gateway: nil, now: .zero)
    #expect(layer.supportsSegmentationOffload)
    let payload = buffer([UInt8](repeating: 1, count: 20000))
    payload.offload = .tcpSegmentation(
      start: 34, checksumOffset: 16, headerLength: 66, segmentSize: 1448)
    try layer.send(payload, protocolNumber: .tcp, to: C.va, options: IPv4SendOptions(), now: .zero)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.bytes.count == 20020)
  }

  @Test func networkProperties() {
    let layer = makeLayer(mtu: 1400)
    #expect(layer.maximumPayloadSize == 1380)
    #expect(layer.headroom == 34)
    #expect(layer.address == IPv4CIDR(address: C.vb, prefixLength: 24))
    #expect(!layer.supportsSegmentationOffload)
  }

  @Test func pollRunsTheLinkAndReportsItsDeadline() {
    var layer = makeLayer()
    #expect(layer.nextDeadline == nil)
    layer.link.nextDeadline = Instant(nanoseconds: 5)
    #expect(layer.nextDeadline == Instant(nanoseconds: 5))
    layer.poll(now: Instant(nanoseconds: 7))
    #expect(layer.link.polls == [Instant(nanoseconds: 7)])
  }
}
