import IPv4
import NetCore
import Testing
import UDP

/// Demultiplexing received datagrams, their checks, and the bounded receive queues.
struct UDPLayerReceiveTests {
  typealias C = LinuxCaptures

  @Test func deliversACapturedDatagram() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    #expect(deliver(C.hello, to: &udp) == .delivered(id))
    #expect(
      udp.receive(from: id)
        == UDPReceivedDatagram(
          source: .v4(C.va), sourcePort: 40000, destination: .v4(C.vb),
          payload: Array("hello netstack\n".utf8)))
    #expect(udp.receive(from: id) == nil)
    #expect(udp.counters.datagramsReceived == 1)
    #expect(udp.counters.datagramsDelivered == 1)
  }

  /// The layer's count of queued datagrams (what lets a receive from an empty layer skip the
  /// endpoint table) follows deliveries, receives and closes across endpoints.
  @Test func queuedDatagramsFollowDeliveriesReceivesAndCloses() throws {
    var udp = UDPLayer()
    let first = try udp.bind(port: 7777)
    #expect(udp.receive(from: first) == nil)
    #expect(deliver(C.hello, to: &udp) == .delivered(first))
    #expect(deliver(C.hello, to: &udp) == .delivered(first))
    #expect(udp.queuedDatagrams == 2)
    #expect(udp.receive(from: first) != nil)
    #expect(udp.queuedDatagrams == 1)
    udp.close(first)
    #expect(udp.queuedDatagrams == 0)
    let second = try udp.bind(port: 7777)
    #expect(udp.receive(from: second) == nil)
    #expect(deliver(C.hello, to: &udp) == .delivered(second))
    #expect(udp.queuedDatagrams == 1)
    #expect(udp.receive(from: second)?.payload == Array("hello netstack\n".utf8))
    #expect(udp.receive(from: second) == nil)
    #expect(udp.queuedDatagrams == 0)
  }

  /// A receive from an empty endpoint while another holds a datagram takes nothing and
  /// counts nothing down (it did: the other endpoint's datagram was then never handed out,
  /// and published UDP stopped answering after a flood, e2e publish-udp-flood).
  @Test func anEmptyEndpointsReceiveLeavesTheCountAlone() throws {
    var udp = UDPLayer()
    let empty = try udp.bind(port: 9999)
    let holder = try udp.bind(port: 7777)
    #expect(deliver(C.hello, to: &udp) == .delivered(holder))
    for _ in 0..<3 { #expect(udp.receive(from: empty) == nil) }
    #expect(udp.queuedDatagrams == 1)
    #expect(udp.receive(from: holder)?.payload == Array("hello netstack\n".utf8))
    #expect(udp.queuedDatagrams == 0)
  }

  @Test func zeroChecksumIsAccepted() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    #expect(deliver(C.noChecksum, to: &udp) == .delivered(id))
    #expect(udp.receive(from: id)?.payload == Array("no checksum".utf8))
  }

  @Test func closedPortAsksForPortUnreachable() throws {
    var udp = UDPLayer()
    _ = try udp.bind(port: 7777)
    #expect(deliver(C.closed, to: &udp) == .portUnreachable)
    #expect(udp.counters.droppedNoPort == 1)
  }

  @Test func endpointBoundToAnotherAddressDoesNotMatch() throws {
    var udp = UDPLayer()
    let id = try udp.bind(address: .v4(IPv4Address(10, 77, 0, 3)), port: 7777)
    #expect(deliver(C.hello, to: &udp) == .portUnreachable)
    udp.close(id)
    let ours = try udp.bind(address: .v4(C.vb), port: 7777)
    #expect(deliver(C.hello, to: &udp) == .delivered(ours))
  }

  /// Passes `packet` through an IPv4 layer with no address that delivers datagrams for other
  /// addresses (as while a DHCP client runs), and hands what it delivers to `udp`.
  func deliverUnconfigured(_ packet: [UInt8], to udp: inout UDPLayer) -> UDPInput? {
    var ipv4 = IPv4Layer(link: RecordingLink())
    ipv4.acceptsOtherAddressesWhileUnconfigured = true
    guard case .local(let delivery) = ipv4.receive(packet.span, linkBroadcast: false, now: .zero),
      delivery.isForOtherAddress
    else { return nil }
    return udp.input(
      TransportDelivery(delivery, checksumVerified: false),
      datagram: packet.span.extracting(droppingFirst: delivery.headerLength))
  }

  /// A datagram to another host's address goes only to an endpoint that asked for such
  /// datagrams; anywhere else it is dropped and counted, and never answered.
  @Test func datagramsForOtherAddressesReachOnlyEndpointsThatAskedForThem() throws {
    var udp = UDPLayer()
    #expect(deliverUnconfigured(C.hello, to: &udp) == .dropped)
    let plain = try udp.bind(port: 7777)
    #expect(deliverUnconfigured(C.hello, to: &udp) == .dropped)
    #expect(udp.receive(from: plain) == nil)
    #expect(udp.counters.droppedNotForUs == 2 && udp.counters.droppedNoPort == 0)
    udp.close(plain)

    let asking = try udp.bind(port: 7777, acceptsOtherAddresses: true)
    #expect(udp.endpoint(asking)?.acceptsOtherAddresses == true)
    #expect(deliverUnconfigured(C.hello, to: &udp) == .delivered(asking))
    #expect(udp.receive(from: asking)?.destination == .v4(C.vb))
    // It takes datagrams to our own address as before.
    #expect(deliver(C.hello, to: &udp) == .delivered(asking))
    #expect(udp.counters.datagramsDelivered == 2 && udp.counters.droppedNotForUs == 2)
  }

  @Test func broadcastDatagramsReachAnyAddressEndpoints() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    var broadcast = C.noChecksum
    broadcast.replaceSubrange(16..<20, with: [255, 255, 255, 255])
    fixHeaderChecksum(&broadcast)
    #expect(deliver(broadcast, to: &udp, linkBroadcast: true) == .delivered(id))
    #expect(udp.receive(from: id)?.destination == .v4(.broadcast))
  }

  @Test func badChecksumIsDroppedUnlessTheDeviceVouched() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    var corrupted = C.hello
    corrupted[30] ^= 0x20  // 'l' -> 'L'
    #expect(deliver(corrupted, to: &udp) == .dropped)
    #expect(udp.counters.droppedBadChecksum == 1)
    #expect(udp.receive(from: id) == nil)
    // Also for a closed port: the checksum is checked first (no error about garbage).
    var closed = C.closed
    closed[30] ^= 1
    #expect(deliver(closed, to: &udp) == .dropped)
    #expect(udp.counters.droppedBadChecksum == 2)
    #expect(deliver(corrupted, to: &udp, checksumVerified: true) == .delivered(id))
  }

  @Test func malformedDatagramsAreDropped() throws {
    var udp = UDPLayer()
    _ = try udp.bind(port: 7777)
    // Fewer than 8 bytes of UDP.
    #expect(deliver(withUDP(Array(C.hello[20..<25]), in: C.hello), to: &udp) == .dropped)
    #expect(udp.counters.droppedTruncated == 1)
    // A UDP length beyond the IP payload.
    var long = Array(C.hello[20...])
    long[5] = 24
    #expect(deliver(withUDP(long, in: C.hello), to: &udp) == .dropped)
    #expect(udp.counters.droppedTruncated == 2)
    // A UDP length below 8.
    var short = Array(C.hello[20...])
    short[5] = 7
    #expect(deliver(withUDP(short, in: C.hello), to: &udp) == .dropped)
    #expect(udp.counters.droppedBadLength == 1)
    #expect(udp.counters.datagramsReceived == 3)
    #expect(udp.counters.datagramsDelivered == 0)
  }

  @Test func queueIsBoundedInDatagrams() throws {
    var configuration = UDPLayer.Configuration()
    configuration.queueDatagramLimit = 2
    var udp = UDPLayer(configuration: configuration)
    let id = try udp.bind(port: 7777)
    #expect(deliver(C.hello, to: &udp) == .delivered(id))
    #expect(deliver(C.noChecksum, to: &udp) == .delivered(id))
    #expect(deliver(C.hello, to: &udp) == .dropped)
    #expect(udp.counters.droppedQueueFull == 1)
    #expect(udp.endpoint(id)?.drops == 1)
    #expect(udp.endpoint(id)?.queue.count == 2)
    // Oldest first; reading makes room again.
    #expect(udp.receive(from: id)?.sourcePort == 40000)
    #expect(deliver(C.hello, to: &udp) == .delivered(id))
    #expect(udp.receive(from: id)?.sourcePort == 40002)
    #expect(udp.receive(from: id)?.sourcePort == 40000)
  }

  @Test func queueIsBoundedInBytes() throws {
    var configuration = UDPLayer.Configuration()
    configuration.queueByteLimit = 26  // "hello netstack\n" is 15 bytes, "no checksum" 11
    var udp = UDPLayer(configuration: configuration)
    let id = try udp.bind(port: 7777)
    #expect(deliver(C.hello, to: &udp) == .delivered(id))
    #expect(deliver(C.hello, to: &udp) == .dropped)
    #expect(deliver(C.noChecksum, to: &udp) == .delivered(id))
    #expect(udp.endpoint(id)?.queuedBytes == 26)
    #expect(deliver(C.noChecksum, to: &udp) == .dropped)
    #expect(udp.counters.droppedQueueFull == 2)
    _ = udp.receive(from: id)
    #expect(udp.endpoint(id)?.queuedBytes == 11)
    #expect(deliver(C.hello, to: &udp) == .delivered(id))
  }

  @Test func closingDiscardsQueuedDatagrams() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    _ = deliver(C.hello, to: &udp)
    udp.close(id)
    let again = try udp.bind(port: 7777)
    #expect(udp.receive(from: again) == nil)
  }

  @Test func countersAreReportedByName() {
    let udp = UDPLayer()
    var names: [String] = []
    udp.counters.forEachCounter { name, _ in names.append(name.description) }
    #expect(names.count == 11)
    #expect(names.contains("dropped_no_port") && names.contains("dropped_not_for_us"))
    #expect(names.contains("dropped_outside_flow"))
    #expect(UDPCounters.groupName.description == "udp")
  }
}
