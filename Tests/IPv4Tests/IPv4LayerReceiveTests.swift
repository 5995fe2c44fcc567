import IPv4
import NetCore
import Testing

/// What the layer accepts, delivers and drops on receive.
struct IPv4LayerReceiveTests {
  typealias C = LinuxCaptures

  func receive(
    _ bytes: [UInt8], _ layer: inout IPv4Layer<RecordingLink>, linkBroadcast: Bool = false
  ) -> IPv4Input {
    layer.receive(bytes.span, linkBroadcast: linkBroadcast, now: .zero)
  }

  @Test func deliversUDPToTheTransport() {
    var layer = makeLayer()
    let padded = C.udpToClosedPort + [0, 0, 0, 0]
    guard case .local(let delivery) = receive(padded, &layer) else {
      Issue.record("UDP should be delivered")
      return
    }
    #expect(delivery.headerLength == 20)
    #expect(delivery.header.protocolNumber == .udp)
    #expect(delivery.header.payloadLength == 16)
    #expect(delivery.header.source == C.va)
    #expect(!delivery.linkBroadcast)
    #expect(layer.counters.packetsReceived == 1)
    #expect(layer.counters.packetsDelivered == 1)
    #expect(layer.takeSent().isEmpty)
  }

  @Test func deliversBroadcastsAndRemembersTheLinkBroadcast() {
    var layer = makeLayer()
    for destination: [UInt8] in [[255, 255, 255, 255], [10, 77, 0, 255], [224, 0, 0, 1]] {
      var datagram = C.udpToClosedPort
      datagram.replaceSubrange(16..<20, with: destination)
      fixHeaderChecksum(&datagram)
      guard case .local(let delivery) = receive(datagram, &layer, linkBroadcast: true) else {
        Issue.record("broadcast should be delivered")
        continue
      }
      #expect(delivery.linkBroadcast)
    }
  }

  @Test func reassemblesFragmentedUDP() throws {
    var layer = makeLayer()
    var random = PseudoRandomGenerator(seed: 17)
    let payload = randomBytes(3000, &random)
    let header = IPv4Header(
      source: C.va, destination: C.vb, protocolNumber: .udp, payloadLength: 0,
      identification: 77)
    var last: IPv4Input? = nil
    for offset in stride(from: 0, to: 3000, by: 1480) {
      var fragmentHeader = header
      fragmentHeader.fragmentOffset = offset
      fragmentHeader.moreFragments = offset + 1480 < 3000
      let end = min(offset + 1480, 3000)
      last = receive(ipv4Packet(fragmentHeader, payload: Array(payload[offset..<end])), &layer)
    }
    guard case .reassembled(let delivery, let buffer) = last else {
      Issue.record("expected a reassembled datagram")
      return
    }
    #expect(delivery.header.payloadLength == 3000)
    #expect(delivery.header.identification == 77)
    #expect(delivery.headerLength == 20)
    let whole = buffer.withBytes { $0.copyToArray() }
    #expect(Array(whole[20...]) == payload)
    #expect(layer.counters.datagramsReassembled == 1)
    #expect(layer.counters.fragmentsReceived == 3)
  }

  @Test func countsMalformedPacketsByReason() {
    var layer = makeLayer()
    _ = receive(Array(C.echoRequest[..<10]), &layer)
    #expect(layer.counters.droppedTruncated == 1)
    var version6 = C.echoRequest
    version6[0] = 0x65
    _ = receive(version6, &layer)
    #expect(layer.counters.droppedBadVersion == 1)
    var shortHeader = C.echoRequest
    shortHeader[0] = 0x44
    _ = receive(shortHeader, &layer)
    #expect(layer.counters.droppedBadHeaderLength == 1)
    var badChecksum = C.echoRequest
    badChecksum[8] = 1
    _ = receive(badChecksum, &layer)
    #expect(layer.counters.droppedBadChecksum == 1)
    var badOption = C.recordRouteRequest
    badOption[22] = 1  // record route length 1
    fixHeaderChecksum(&badOption)
    _ = receive(badOption, &layer)
    #expect(layer.counters.droppedBadOptions == 1)
    #expect(layer.counters.packetsReceived == 5)
    #expect(layer.counters.packetsDelivered == 0)
    #expect(layer.takeSent().isEmpty)
  }

  @Test(arguments: [
    [255, 255, 255, 255] as [UInt8], [224, 0, 0, 9], [240, 1, 2, 3],
    [10, 77, 0, 255],  // our subnet's broadcast address
    [127, 0, 0, 1], [127, 9, 8, 7],  // loopback: never on a link (RFC 1122 §3.2.1.3)
  ])
  func dropsImpossibleSources(source: [UInt8]) {
    var layer = makeLayer()
    for capture in [C.udpToClosedPort, C.echoRequest] {
      var datagram = capture
      datagram.replaceSubrange(12..<16, with: source)
      fixHeaderChecksum(&datagram)
      guard case .consumed = receive(datagram, &layer) else {
        Issue.record("delivered a datagram from \(source)")
        continue
      }
    }
    #expect(layer.counters.droppedBadSource == 2)
    // In particular no echo reply goes to a broadcast address (no smurf amplification).
    #expect(layer.takeSent().isEmpty)
  }

  @Test func dropsDatagramsForOtherHosts() {
    var layer = makeLayer()
    var other = C.echoRequest
    other[19] = 3
    fixHeaderChecksum(&other)
    _ = receive(other, &layer)
    #expect(layer.counters.droppedNotForUs == 1)
    #expect(layer.takeSent().isEmpty)
  }

  /// passt's DHCPOFFER (Debian's passt 0.0~git20230309, in a namespace whose veth has
  /// 10.90.0.1/24 and gateway 10.90.0.2), captured by `netstackd --unix passt.sock --dhcp
  /// --pcap`: unicast from 10.90.0.2 to the offered 10.90.0.1 although the DISCOVER set the
  /// broadcast flag; UDP checksum 0. The BOOTP fields after chaddr are zeros up to the cookie.
  static let passtOffer: [UInt8] =
    [
      0x45, 0x00, 0x01, 0x48, 0x00, 0x00, 0x00, 0x00, 0xff, 0x11, 0xa5, 0xee, 0x0a, 0x5a, 0x00,
      0x02,
      0x0a, 0x5a, 0x00, 0x01, 0x00, 0x43, 0x00, 0x44, 0x01, 0x34, 0x00, 0x00, 0x02, 0x01, 0x06,
      0x00,
      0x79, 0x38, 0x47, 0x64, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x5a, 0x00,
      0x01,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x38, 0x90, 0xaa, 0x56, 0x6e, 0x00,
      0x00,
    ] + [UInt8](repeating: 0, count: 200)
    + [
      0x63, 0x82, 0x53, 0x63, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00, 0x03, 0x04, 0x0a, 0x5a, 0x00,
      0x02,
      0x06, 0x04, 0x0a, 0xff, 0xff, 0x35, 0x1a, 0x02, 0xff, 0xf0, 0x33, 0x04, 0xff, 0xff, 0xff,
      0xff,
      0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x5a, 0x00, 0x02, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00,
    ]

  /// While asked to (a DHCP client runs) and only while it has no address, the layer delivers
  /// datagrams to another host's address, marked so; which ones are wanted (ports) is the
  /// transports' business, not IPv4's.
  @Test func withoutAnAddressDatagramsForOtherAddressesAreDeliveredMarkedWhenAsked() {
    #expect(Self.passtOffer.count == 328)
    var layer = IPv4Layer(link: RecordingLink())
    guard case .consumed = receive(Self.passtOffer, &layer) else {
      Issue.record("a datagram to another address without the flag")
      return
    }
    #expect(layer.counters.droppedNotForUs == 1)
    layer.acceptsOtherAddressesWhileUnconfigured = true
    guard case .local(let delivery) = receive(Self.passtOffer, &layer) else {
      Issue.record("the unicast OFFER must be delivered")
      return
    }
    #expect(delivery.isForOtherAddress)
    #expect(delivery.header.destination == IPv4Address(10, 90, 0, 1))
    #expect(delivery.header.protocolNumber == .udp)
    // Other ports too: IPv4 no longer looks at them.
    var otherPorts = Self.passtOffer
    otherPorts[21] = 0x35
    otherPorts[23] = 0x35
    guard case .local(let other) = receive(otherPorts, &layer), other.isForOtherAddress else {
      Issue.record("UDP to another port and address must be delivered, marked")
      return
    }
    // Broadcasts are ours, not another host's.
    var broadcast = Self.passtOffer
    broadcast.replaceSubrange(16..<20, with: [255, 255, 255, 255])
    fixHeaderChecksum(&broadcast)
    guard case .local(let ours) = receive(broadcast, &layer, linkBroadcast: true) else {
      Issue.record("a broadcast OFFER must be delivered")
      return
    }
    #expect(!ours.isForOtherAddress)
    #expect(layer.counters.droppedNotForUs == 1)
    #expect(layer.counters.packetsDelivered == 3)
  }

  /// Once the interface has an address, the flag lets nothing to other addresses in.
  @Test func withAnAddressDatagramsForOtherAddressesAreDropped() {
    var layer = makeLayer()
    layer.acceptsOtherAddressesWhileUnconfigured = true
    guard case .consumed = receive(Self.passtOffer, &layer) else {
      Issue.record("a configured interface took a datagram for 10.90.0.1")
      return
    }
    #expect(layer.counters.droppedNotForUs == 1)
  }

  /// Fragments and ICMP to another address stay out, and nothing is answered.
  @Test func fragmentsAndICMPForOtherAddressesAreDroppedUnanswered() {
    var layer = IPv4Layer(link: RecordingLink())
    layer.acceptsOtherAddressesWhileUnconfigured = true
    let other = IPv4Address(10, 77, 0, 9)
    let fragment = IPv4Header(
      source: C.va, destination: other, protocolNumber: .udp, payloadLength: 16,
      identification: 7, moreFragments: true)
    let piece = ipv4Packet(fragment, payload: [UInt8](repeating: 1, count: 16))
    guard case .consumed = receive(piece, &layer) else {
      Issue.record("a fragment to another address was taken")
      return
    }
    var echo = C.echoRequest
    echo.replaceSubrange(16..<20, with: [10, 77, 0, 9])
    fixHeaderChecksum(&echo)
    guard case .consumed = receive(echo, &layer) else {
      Issue.record("ICMP is the layer's own")
      return
    }
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.echoRequestsReceived == 0)
    #expect(layer.counters.droppedNotForUs == 2)
    #expect(layer.counters.fragmentsReceived == 0)
  }

  @Test func withoutAnAddressOnlyBroadcastsAreForUs() {
    var layer = IPv4Layer(link: RecordingLink())
    guard case .consumed = receive(C.udpToClosedPort, &layer) else {
      Issue.record("unicast without an address")
      return
    }
    #expect(layer.counters.droppedNotForUs == 1)
    var broadcast = C.udpToClosedPort
    broadcast.replaceSubrange(16..<20, with: [255, 255, 255, 255])
    fixHeaderChecksum(&broadcast)
    guard case .local = receive(broadcast, &layer, linkBroadcast: true) else {
      Issue.record("broadcast (DHCP) must be delivered")
      return
    }
  }

  /// RFC 1122 §3.2.1.7: a low TTL is no reason to drop a datagram that has arrived.
  @Test func acceptsLowTTL() {
    var layer = makeLayer()
    for ttl: UInt8 in [0, 1] {
      var datagram = C.udpToClosedPort
      datagram[8] = ttl
      fixHeaderChecksum(&datagram)
      guard case .local = receive(datagram, &layer) else {
        Issue.record("TTL \(ttl) dropped")
        continue
      }
    }
    #expect(layer.counters.receivedLowTTL == 2)
  }

  @Test func countsReassemblyProblems() {
    var layer = makeLayer()
    let first = C.fragmentedRequest[0]
    _ = receive(first, &layer)
    var overlapping = C.fragmentedRequest[1]
    overlapping[6] = 0x20
    overlapping[7] = 0xB8  // offset 1472: overlaps the first fragment by 8 bytes
    fixHeaderChecksum(&overlapping)
    _ = receive(overlapping, &layer)
    #expect(layer.counters.reassemblyOverlaps == 1)
    _ = receive(C.fragmentedRequest[2], &layer)
    #expect(layer.counters.reassemblyBadFragments == 1)  // the rest is discarded
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.echoRequestsReceived == 0)
  }

  /// Datagrams evicted from a full reassembly table are counted when they are evicted.
  @Test func countsReassemblyEvictions() {
    var layer = makeLayer()
    for id in 0..<17 {
      var fragment = C.fragmentedRequest[0]
      fragment[4] = 0
      fragment[5] = UInt8(id)
      fixHeaderChecksum(&fragment)
      _ = receive(fragment, &layer)
    }
    #expect(layer.counters.fragmentsReceived == 17)
    #expect(layer.counters.reassemblyEvictions == 1)
  }

  @Test func countersAreReportedByName() {
    let layer = makeLayer()
    var names: [String] = []
    layer.counters.forEachCounter { name, _ in names.append(name.description) }
    #expect(names.count == 22)
    #expect(Set(names).count == names.count)
    var icmpNames: [String] = []
    layer.icmpCounters.forEachCounter { name, _ in icmpNames.append(name.description) }
    #expect(icmpNames.count == 19)
    #expect(Set(icmpNames).count == icmpNames.count)
    #expect(IPv4Counters.groupName.description == "ipv4")
    #expect(ICMPv4Counters.groupName.description == "icmp")
  }
}
