import IPv4
import NetCore
import Testing

/// ICMP errors the layer sends, and the RFC 1122 §3.2.2 rules about when it must not.
struct ICMPv4ErrorTests {
  typealias C = LinuxCaptures

  func unreachable(
    _ code: ICMPv4UnreachableCode = .port, about datagram: [UInt8],
    _ layer: inout IPv4Layer<RecordingLink>, linkBroadcast: Bool = false
  ) -> [SentPacket] {
    layer.sendDestinationUnreachable(
      code, about: datagram.span, linkBroadcast: linkBroadcast, now: .zero)
    return layer.takeSent()
  }

  /// The message is Linux's; only the IP header differs (Linux sends errors with TOS 0xc0).
  @Test func portUnreachableMatchesLinux() throws {
    var layer = makeLayer(identificationSeed: 0xED68 - 1)
    let sent = unreachable(about: C.udpToClosedPort, &layer)
    #expect(sent.count == 1)
    let error = try #require(sent.first)
    #expect(error.nextHop == C.va)
    #expect(Array(error.bytes[20...]) == Array(C.portUnreachable[20...]))
    var expected = C.portUnreachable
    expected[1] = 0
    fixHeaderChecksum(&expected)
    #expect(error.bytes == expected)
    #expect(layer.icmpCounters.errorsSent == 1)
  }

  @Test func protocolUnreachable() throws {
    var layer = makeLayer()
    var datagram = C.udpToClosedPort
    datagram[9] = 132  // SCTP
    fixHeaderChecksum(&datagram)
    let error = try #require(unreachable(.protocolUnreachable, about: datagram, &layer).first)
    #expect(error.bytes[20] == 3 && error.bytes[21] == 2)
    #expect(Array(error.bytes[28...]) == datagram)
  }

  /// RFC 1812 §4.3.2.3: as much of the datagram as fits in 576 bytes.
  @Test func quoteIsLimitedTo576Bytes() throws {
    var layer = makeLayer()
    var random = PseudoRandomGenerator(seed: 576)
    let datagram = ipv4Packet(
      IPv4Header(source: C.va, destination: C.vb, protocolNumber: .udp, payloadLength: 0),
      payload: randomBytes(1000, &random))
    let error = try #require(unreachable(about: datagram, &layer).first)
    #expect(error.bytes.count == 576)
    let packet = try IPv4Packet(checking: error.bytes.span)
    #expect(packet.totalLength == 576)
    #expect(Array(error.bytes[28...]) == Array(datagram[..<548]))
  }

  @Test func noErrorAboutLinkBroadcasts() {
    var layer = makeLayer()
    #expect(unreachable(about: C.udpToClosedPort, &layer, linkBroadcast: true).isEmpty)
  }

  @Test(arguments: [
    IPv4Address.broadcast, IPv4Address(10, 77, 0, 255), IPv4Address(224, 0, 0, 1),
    IPv4Address(239, 1, 2, 3),
  ])
  func noErrorAboutDatagramsToGroups(destination: IPv4Address) {
    var layer = makeLayer()
    var datagram = C.udpToClosedPort
    datagram.replaceSubrange(16..<20, with: (0..<4).map { destination.octet($0) })
    fixHeaderChecksum(&datagram)
    #expect(unreachable(about: datagram, &layer).isEmpty)
  }

  @Test(arguments: [
    IPv4Address.any, IPv4Address.broadcast, IPv4Address(224, 0, 0, 5), IPv4Address(240, 0, 0, 1),
    IPv4Address(127, 0, 0, 1), IPv4Address(10, 77, 0, 255),
  ])
  func noErrorToSourcesThatAreNotOneHost(source: IPv4Address) {
    var layer = makeLayer()
    var datagram = C.udpToClosedPort
    datagram.replaceSubrange(12..<16, with: (0..<4).map { source.octet($0) })
    fixHeaderChecksum(&datagram)
    #expect(unreachable(about: datagram, &layer).isEmpty)
    #expect(layer.icmpCounters.errorsSent == 0)
  }

  @Test func noErrorAboutNonInitialFragments() throws {
    var layer = makeLayer()
    var fragment = C.udpToClosedPort
    fragment[6] = 0x00
    fragment[7] = 0x02  // offset 16
    fixHeaderChecksum(&fragment)
    #expect(unreachable(about: fragment, &layer).isEmpty)
    // The first fragment may get one.
    var first = C.udpToClosedPort
    first[6] = 0x20  // MF, offset 0
    fixHeaderChecksum(&first)
    #expect(unreachable(about: first, &layer).count == 1)
  }

  @Test func noErrorAboutICMPErrorsButAboutOtherICMP() {
    var layer = makeLayer()
    // Linux's port unreachable, turned around to come to us: an error about an error.
    var error = C.portUnreachable
    error.replaceSubrange(12..<20, with: [10, 77, 0, 1, 10, 77, 0, 2])
    fixHeaderChecksum(&error)
    #expect(unreachable(.protocolUnreachable, about: error, &layer).isEmpty)
    for type: UInt8 in [4, 5, 11, 12] {
      var other = error
      other[20] = type
      fixHeaderChecksum(&other)
      #expect(unreachable(.protocolUnreachable, about: other, &layer).isEmpty, "type \(type)")
    }
    // An echo request is not an error: it may be answered with one.
    #expect(unreachable(.protocolUnreachable, about: C.echoRequest, &layer).count == 1)
    // An ICMP datagram with no payload byte to tell its type: no error either.
    var empty = Array(C.echoRequest[..<20])
    empty[3] = 20
    fixHeaderChecksum(&empty)
    #expect(unreachable(.protocolUnreachable, about: empty, &layer).isEmpty)
  }

  @Test func noErrorAboutMalformedDatagrams() {
    var layer = makeLayer()
    var bad = C.udpToClosedPort
    bad[8] ^= 1
    #expect(unreachable(about: bad, &layer).isEmpty)
    #expect(unreachable(about: Array(C.udpToClosedPort[..<10]), &layer).isEmpty)
  }

  /// RFC 792 / RFC 1122 §3.2.1.4: reassembly timeout sends time exceeded, code 1, quoting the
  /// first fragment's header and 8 bytes, when the first fragment had arrived.
  @Test func timeExceededAfterReassemblyTimeout() throws {
    var layer = makeLayer()
    let first = C.fragmentedRequest[0]
    _ = layer.receive(first.span, linkBroadcast: false, now: .zero)
    #expect(layer.nextDeadline == .zero + .seconds(30))
    #expect(layer.reassemblyBytesHeld > 0)
    layer.poll(now: .zero + .seconds(29))
    #expect(layer.takeSent().isEmpty)
    layer.poll(now: .zero + .seconds(30))
    let error = try #require(layer.takeSent().first)
    #expect(error.nextHop == C.va)
    let packet = try IPv4Packet(checking: error.bytes.span)
    #expect(packet.source == C.vb && packet.destination == C.va)
    #expect(packet.protocolNumber == .icmp)
    #expect(Array(error.bytes[20..<28]) != [])
    #expect(error.bytes[20] == 11 && error.bytes[21] == 1)
    #expect(Array(error.bytes[28...]) == Array(first[..<28]))
    #expect(InternetChecksum.compute(error.bytes.span.extracting(20...)) == 0)
    #expect(layer.counters.reassemblyTimeouts == 1)
    #expect(layer.reassemblyBytesHeld == 0)
    #expect(layer.link.polls.count == 2)
  }

  @Test func noTimeExceededWithoutTheFirstFragment() {
    var layer = makeLayer()
    let second = C.fragmentedRequest[1]
    _ = layer.receive(second.span, linkBroadcast: false, now: .zero)
    layer.poll(now: .zero + .seconds(30))
    #expect(layer.takeSent().isEmpty)
    #expect(layer.counters.reassemblyTimeouts == 1)
  }
}
