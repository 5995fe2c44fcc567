import IPv6
import NetCore
import Testing

/// Two IPv6 layers on one in-memory link, run by a virtual clock: duplicate address
/// detection, resolution, echo and fragmented echo both ways.
struct TwoLayerTests {
  static let macA = LinuxCaptures.macA
  static let macB = LinuxCaptures.macB
  static let addressA = IPv6CIDR(
    address: IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 1), prefixLength: 64)
  static let addressB = IPv6CIDR(
    address: IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 2), prefixLength: 64)

  /// The two layers and the clock.
  struct Network {
    var a: IPv6Layer<RecordingLink>
    var b: IPv6Layer<RecordingLink>
    var now = Instant.zero
    /// Frames sent, in order.
    var transmitted: [SentFrame] = []

    init(configuration: IPv6Layer<RecordingLink>.Configuration = quietConfiguration) {
      var linkA = RecordingLink()
      linkA.hardwareAddress = TwoLayerTests.macA
      var linkB = RecordingLink()
      linkB.hardwareAddress = TwoLayerTests.macB
      a = IPv6Layer(
        link: linkA, configuration: configuration, secretKey: testSecretKey, randomSeed: 11)
      b = IPv6Layer(link: linkB, configuration: configuration, secretKey: (5, 6), randomSeed: 12)
    }

    /// Whether a layer's link filter takes a frame to `destination`.
    static func accepts(_ layer: IPv6Layer<RecordingLink>, _ destination: MACAddress) -> Bool {
      if destination == layer.link.hardwareAddress { return true }
      return destination.isMulticast
        && layer.link.groups.contains { MACAddress(multicast: $0) == destination }
    }

    /// Moves frames both ways until neither layer has any to send.
    mutating func exchange() {
      var rounds = 0
      while (!a.link.sent.isEmpty || !b.link.sent.isEmpty) && rounds < 100 {
        rounds += 1
        let fromA = a.takeSent()
        let fromB = b.takeSent()
        transmitted += fromA + fromB
        for frame in fromA where Network.accepts(b, frame.destination) {
          _ = b.receive(frame.bytes, multicast: frame.destination.isMulticast, at: now)
        }
        for frame in fromB where Network.accepts(a, frame.destination) {
          _ = a.receive(frame.bytes, multicast: frame.destination.isMulticast, at: now)
        }
      }
    }

    /// Runs the clock in 10 ms steps to `end`, polling and exchanging.
    mutating func run(until end: Instant) {
      exchange()
      while now < end {
        now += .milliseconds(10)
        a.poll(now: now)
        b.poll(now: now)
        exchange()
      }
    }
  }

  func upNetwork() -> Network {
    var network = Network()
    network.a.start(now: .zero)
    network.b.start(now: .zero)
    try! network.a.addAddress(TwoLayerTests.addressA, now: .zero)
    try! network.b.addAddress(TwoLayerTests.addressB, now: .zero)
    network.run(until: at(3))
    return network
  }

  @Test func bothComeUp() {
    let network = upNetwork()
    for layer in [network.a, network.b] {
      #expect(layer.addresses.count == 2)
      #expect(layer.addresses.allSatisfy { $0.state == .preferred })
      #expect(layer.ndpCounters.duplicateAddresses == 0)
    }
    // Each layer sent a detection solicitation for each of its addresses.
    let detections = network.transmitted.filter {
      icmpTypes([$0]) == [.neighbourSolicitation] && header(of: $0.bytes).source == .unspecified
    }
    #expect(detections.count == 4)
  }

  @Test func echoBothWays() throws {
    var network = upNetwork()
    let payload = [UInt8](repeating: 0x5a, count: 56)
    try network.a.sendEchoRequest(
      to: TwoLayerTests.addressB.address, identifier: 7, sequence: 1, payload: payload.span,
      now: network.now)
    network.run(until: network.now + .milliseconds(50))
    let reply = network.a.echoReplies.popFirst()
    #expect(reply?.source == TwoLayerTests.addressB.address)
    #expect(reply?.identifier == 7 && reply?.sequence == 1 && reply?.payloadLength == 56)
    #expect(
      network.a.neighbourCache.entry(for: TwoLayerTests.addressB.address)?.state.name == "REACHABLE"
    )
    try network.b.sendEchoRequest(
      to: TwoLayerTests.addressA.address, identifier: 8, sequence: 2, payload: payload.span,
      now: network.now)
    network.run(until: network.now + .milliseconds(50))
    #expect(network.b.echoReplies.popFirst()?.sequence == 2)
  }

  @Test func linkLocalEcho() throws {
    var network = upNetwork()
    let linkLocalB = try #require(network.b.addresses.first { $0.origin == .linkLocal }?.address)
    try network.a.sendEchoRequest(
      to: linkLocalB, identifier: 1, sequence: 1, payload: [1, 2, 3].span, now: network.now)
    network.run(until: network.now + .milliseconds(50))
    let reply = network.a.echoReplies.popFirst()
    #expect(reply?.source == linkLocalB)
  }

  @Test(arguments: [4000, 60000])
  func fragmentedEchoBothWays(size: Int) throws {
    var network = upNetwork()
    var random = PseudoRandomGenerator(seed: UInt64(size))
    let payload = randomBytes(size, &random)
    try network.a.sendEchoRequest(
      to: TwoLayerTests.addressB.address, identifier: 3, sequence: 9, payload: payload.span,
      now: network.now)
    network.run(until: network.now + .milliseconds(50))
    #expect(network.a.echoReplies.popFirst()?.payloadLength == size)
    try network.b.sendEchoRequest(
      to: TwoLayerTests.addressA.address, identifier: 4, sequence: 10, payload: payload.span,
      now: network.now)
    network.run(until: network.now + .milliseconds(50))
    #expect(network.b.echoReplies.popFirst()?.payloadLength == size)
    let fragments = (size + 8 + 1447) / 1448
    for layer in [network.a, network.b] {
      #expect(layer.counters.packetsReassembled == 2)
      #expect(layer.counters.fragmentsSent == UInt64(2 * fragments))
      #expect(layer.reassemblyBytesHeld == 0)
    }
  }

  @Test func detectionFindsAnAddressInUse() {
    var network = upNetwork()
    // A wants B's address: B defends it, A never uses it.
    try! network.a.addAddress(
      IPv6CIDR(address: TwoLayerTests.addressB.address, prefixLength: 64), now: network.now)
    network.run(until: network.now + .seconds(3))
    #expect(
      network.a.addresses.first { $0.address == TwoLayerTests.addressB.address }?.state
        == .duplicate)
    #expect(
      network.b.addresses.first { $0.address == TwoLayerTests.addressB.address }?.state
        == .preferred)
    #expect(network.a.ndpCounters.duplicateAddresses == 1)
    // Echo to it from A's own address still reaches B.
    try? network.a.sendEchoRequest(
      to: TwoLayerTests.addressB.address, identifier: 1, sequence: 1, payload: [0].span,
      now: network.now)
    network.run(until: network.now + .milliseconds(50))
    #expect(network.a.echoReplies.popFirst()?.source == TwoLayerTests.addressB.address)
  }

  @Test func simultaneousDetectionLeavesTheAddressToTheFirst() {
    // Both want the same address: the one whose solicitation goes first keeps it, the other
    // hears it while tentative and finds it duplicate (RFC 4862 §5.4.3).
    var network = Network()
    network.a.start(now: .zero)
    network.b.start(now: .zero)
    let shared = IPv6CIDR(address: IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 9), prefixLength: 64)
    try! network.a.addAddress(shared, now: .zero)
    try! network.b.addAddress(shared, now: .zero)
    network.run(until: at(3))
    let states = [network.a, network.b].compactMap { layer in
      layer.addresses.first { $0.address == shared.address }?.state
    }
    #expect(states.sorted { $0.name < $1.name } == [.duplicate, .preferred])
  }

  @Test func duplicateLinkLocalAddressIsFormedAgain() {
    // B already uses the link-local address A's identifier gives for counter 0: A's
    // detection fails and it forms another with counter 1 (RFC 7217 §6).
    var network = Network()
    let identifiers = StableInterfaceIdentifier(
      secretKey: testSecretKey, interface: TwoLayerTests.macA)
    let taken = IPv6Address(
      prefix: .linkLocalPrefix,
      interfaceIdentifier: identifiers.identifier(prefix: .linkLocalPrefix, dadCounter: 0)
        .identifier)
    network.b.start(now: .zero)
    try! network.b.addAddress(IPv6CIDR(address: taken, prefixLength: 64), now: .zero)
    network.run(until: at(3))
    #expect(network.b.addresses.first { $0.address == taken }?.state == .preferred)
    network.a.start(now: network.now)
    network.run(until: at(6))
    let linkLocal = network.a.addresses.filter { $0.origin == .linkLocal }
    #expect(linkLocal.count == 1)
    #expect(linkLocal.first?.dadCounter == 1 && linkLocal.first?.state == .preferred)
    #expect(linkLocal.first?.address != taken)
    #expect(network.a.ndpCounters.duplicateAddresses == 1)
  }
}
