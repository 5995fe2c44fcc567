import IPv6
import NetCore
import Testing

/// The layer's receive path: what is ours, what is dropped, what is answered, with the
/// kernel's packets.
struct IPv6LayerReceiveTests {
  let globalB = IPv6CIDR(address: LinuxCaptures.globalB, prefixLength: 64)
  let linkLocalB = IPv6CIDR(address: LinuxCaptures.linkLocalB, prefixLength: 64)

  /// B with its captured addresses, having learnt A's link-layer address from A's
  /// solicitation (the capture's order: NS, NA, then the echo).
  func layerB() -> IPv6Layer<RecordingLink> {
    var layer = makeLayer(addresses: [globalB, linkLocalB])
    _ = layer.receive(LinuxCaptures.neighbourSolicitation, multicast: true, at: at(5))
    _ = layer.takeSent()
    return layer
  }

  @Test func answersTheCapturedSolicitationLikeLinux() {
    var layer = makeLayer(addresses: [globalB])
    #expect(
      layer.receive(LinuxCaptures.neighbourSolicitation, multicast: true, at: at(5)).isConsumed)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.destination == LinuxCaptures.macA)
    // Solicited, override, our MAC: the kernel's advertisement, flow label aside.
    #expect(
      sent.first.map { Array($0.bytes[4...]) } == Array(LinuxCaptures.neighbourAdvertisement[4...]))
    #expect(
      layer.neighbourCache.entry(for: LinuxCaptures.globalA)?.state.linkLayerAddress
        == LinuxCaptures.macA)
    #expect(layer.ndpCounters.neighbourAdvertisementsSent == 1)
  }

  @Test func answersTheCapturedEchoLikeLinux() {
    var layer = layerB()
    #expect(layer.receive(LinuxCaptures.echoRequest, at: at(5)).isConsumed)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(sent.first?.destination == LinuxCaptures.macA)
    #expect(sent.first.map { Array($0.bytes[4...]) } == Array(LinuxCaptures.echoReply[4...]))
    #expect(layer.icmpCounters.echoRequestsReceived == 1 && layer.icmpCounters.echoRepliesSent == 1)
  }

  @Test func answersLinkLocalAndMulticastEcho() throws {
    var layer = layerB()
    _ = layer.receive(LinuxCaptures.linkLocalEchoRequest, at: at(5))
    // fe80::ff:fe00:a is unknown yet: a solicitation first, the reply waits.
    var sent = layer.takeSent()
    #expect(icmpTypes(sent) == [.neighbourSolicitation])
    #expect(header(of: sent[0].bytes).source == LinuxCaptures.linkLocalB)
    _ = layer.receive(
      icmpv6Packet(
        ICMPv6Header(type: .neighbourAdvertisement, code: 0, restOfHeader: 0x6000_0000),
        body: LinuxCaptures.linkLocalA.octets + [2, 1] + LinuxCaptures.macA.octets6,
        source: LinuxCaptures.linkLocalA, destination: LinuxCaptures.linkLocalB), at: at(5.1))
    sent = layer.takeSent()
    #expect(icmpTypes(sent) == [.echoReply])
    #expect(header(of: sent[0].bytes).source == LinuxCaptures.linkLocalB)
    // To all nodes: answered from a unicast address of ours (RFC 4443 §4.2).
    _ = layer.receive(LinuxCaptures.multicastEchoRequest, multicast: true, at: at(6))
    sent = layer.takeSent()
    #expect(icmpTypes(sent) == [.echoReply])
    let reply = header(of: sent[0].bytes)
    #expect(reply.source.isLinkLocal && reply.destination == LinuxCaptures.linkLocalA)
  }

  @Test func multicastEchoCanBeTurnedOff() {
    var configuration = quietConfiguration
    configuration.answersMulticastEcho = false
    var layer = makeLayer(configuration: configuration)
    _ = layer.receive(LinuxCaptures.multicastEchoRequest, multicast: true, at: at(6))
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.droppedEchoRequests == 1)
  }

  @Test func answersTheCapturedFragmentedEcho() throws {
    var layer = layerB()
    _ = layer.receive(LinuxCaptures.fragmentedEchoRequest1, at: at(5))
    _ = layer.receive(LinuxCaptures.fragmentedEchoRequest2, at: at(5))
    #expect(layer.takeSent().isEmpty)
    _ = layer.receive(LinuxCaptures.fragmentedEchoRequest0, at: at(5))
    let sent = layer.takeSent()
    // The 4008-byte reply in three fragments, as Linux sent its own.
    #expect(sent.map(\.bytes.count) == [1496, 1496, 1160])
    #expect(sent.allSatisfy { $0.destination == LinuxCaptures.macA })
    var reassembler = IPv6Reassembler()
    var whole: [UInt8]? = nil
    for frame in sent {
      let packet = try IPv6Packet(checking: frame.bytes.span)
      guard
        case .fragment(let fragment, let offset, let field, _) = IPv6ExtensionHeaderWalker().walk(
          packet.bytes, from: .start(nextHeader: packet.nextHeader), destinationIsMulticast: false)
      else { continue }
      if case .complete(let buffer) = reassembler.add(
        packet.bytes, header: fragment, fragmentHeaderOffset: offset, nextHeaderFieldOffset: field,
        now: .zero)
      {
        whole = buffer.withBytes { $0.copyToArray() }
      }
    }
    let reply = try #require(whole)
    let packet = try IPv6Packet(checking: reply.span)
    let message = try ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    #expect(message.type == .echoReply && message.body.count == 4000)
    #expect(layer.counters.packetsReassembled == 1 && layer.counters.fragmentsSent == 3)
  }

  @Test func deliversTransportPackets() {
    var layer = layerB()
    guard case .local(let delivery) = layer.receive(LinuxCaptures.udpToClosedPort, at: at(5)) else {
      Issue.record("not delivered")
      return
    }
    #expect(delivery.nextHeader == .udp)
    #expect(delivery.payloadOffset == 40 && delivery.payloadLength == 16)
    #expect(
      delivery.source == LinuxCaptures.globalA && delivery.destination == LinuxCaptures.globalB)
    // The stack's port unreachable is the kernel's, flow label aside.
    layer.sendDestinationUnreachable(
      .portUnreachable, about: LinuxCaptures.udpToClosedPort.span, linkMulticast: false, now: at(5))
    let sent = layer.takeSent()
    #expect(sent.map { Array($0.bytes[4...]) } == [Array(LinuxCaptures.portUnreachable[4...])])
  }

  @Test func unknownNextHeaderIsAParameterProblemLikeLinuxs() {
    var layer = layerB()
    #expect(layer.receive(LinuxCaptures.unknownNextHeader, at: at(5)).isConsumed)
    let sent = layer.takeSent()
    #expect(
      sent.map { Array($0.bytes[4...]) } == [Array(LinuxCaptures.unknownNextHeaderProblem[4...])])
    #expect(layer.counters.droppedUnknownNextHeader == 1)
  }

  @Test func dropsWhatIsNotOurs() {
    var layer = layerB()
    func drop(_ bytes: [UInt8], multicast: Bool = false) {
      #expect(layer.receive(bytes, multicast: multicast, at: at(5)).isConsumed)
    }
    // To another host; to a group we are not in; from a group; from loopback.
    var other = LinuxCaptures.echoRequest
    other[39] = 0x99
    drop(other)
    drop(
      icmpv6Packet(
        .echo(reply: false, identifier: 1, sequence: 1), body: [], source: LinuxCaptures.globalA,
        destination: IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 0x99)), multicast: true)
    drop(
      icmpv6Packet(
        .echo(reply: false, identifier: 1, sequence: 1), body: [], source: .allNodes,
        destination: LinuxCaptures.globalB))
    drop(
      icmpv6Packet(
        .echo(reply: false, identifier: 1, sequence: 1), body: [], source: .loopback,
        destination: LinuxCaptures.globalB))
    #expect(layer.counters.droppedNotForUs == 2)
    #expect(layer.counters.droppedBadAddress == 2)
    // Garbage: short, version 4.
    drop([0x60, 0, 0])
    drop([0x45] + [UInt8](repeating: 0, count: 39))
    #expect(layer.counters.droppedTruncated == 1 && layer.counters.droppedBadVersion == 1)
    // A bad ICMPv6 checksum.
    var corrupted = LinuxCaptures.echoRequest
    corrupted[70] ^= 0xff
    drop(corrupted)
    #expect(layer.icmpCounters.droppedBadChecksum == 1)
    #expect(layer.takeSent().isEmpty)
  }

  @Test func tentativeAddressReceivesNothing() {
    var layer = makeLayer()
    try! layer.addAddress(globalB, now: at(5))
    #expect(layer.addresses.first { $0.address == LinuxCaptures.globalB }?.state == .tentative)
    _ = layer.receive(LinuxCaptures.echoRequest, at: at(5))
    #expect(layer.counters.droppedNotForUs == 1)
    #expect(icmpTypes(layer.takeSent()).allSatisfy { $0 != .echoReply })
  }

  @Test func extensionHeaderProblemsAreAnswered() {
    var layer = layerB()
    // A destination option of type 10xxxxxx (report even to groups), before UDP.
    let options: [UInt8] = [17, 0, 0x9e, 2, 0, 0, 1, 0]
    let packet = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB,
        nextHeader: .destinationOptions, payloadLength: 0),
      payload: options + [0, 1, 0, 2, 0, 8, 0, 0])
    _ = layer.receive(packet, at: at(5))
    var sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(
      icmpv6Header(of: sent[0].bytes)
        == ICMPv6Header(type: .parameterProblem, code: 2, restOfHeader: 42))
    // A type 0 routing header with a segment left: code 0 at the routing type.
    let routing = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .routing,
        payloadLength: 0),
      payload: [17, 2, 0, 1, 0, 0, 0, 0] + LinuxCaptures.globalR.octets + [0, 1, 0, 2, 0, 8, 0, 0])
    _ = layer.receive(routing, at: at(5))
    sent = layer.takeSent()
    #expect(
      icmpv6Header(of: sent[0].bytes)
        == ICMPv6Header(type: .parameterProblem, code: 0, restOfHeader: 42))
    #expect(
      layer.counters.droppedRoutingHeader == 1 && layer.counters.droppedUnrecognizedOption == 1)
    // The same option to all nodes in a multicast frame: with type 11xxxxxx, no answer.
    let quiet = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: .allNodes, nextHeader: .destinationOptions,
        payloadLength: 0),
      payload: [17, 0, 0xde, 2, 0, 0, 1, 0] + [0, 1, 0, 2, 0, 8, 0, 0])
    _ = layer.receive(quiet, multicast: true, at: at(5))
    #expect(layer.takeSent().isEmpty)
  }

  @Test func noErrorAboutAnError() {
    var layer = layerB()
    // A packet too big (an error) of an unknown option with 10xxxxxx: never answered.
    let error = icmpv6Message(
      ICMPv6Header(type: .destinationUnreachable, code: 4), body: [UInt8](repeating: 0, count: 8),
      source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB)
    let packet = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB,
        nextHeader: .destinationOptions, payloadLength: 0),
      payload: [58, 0, 0x9e, 2, 0, 0, 1, 0] + error)
    _ = layer.receive(packet, at: at(5))
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.errorsSuppressed == 1)
  }

  @Test func errorsAreRateLimited() {
    var layer = makeLayer(
      addresses: [globalB], errorRateLimiter: ICMPv6ErrorRateLimiter(ratePerSecond: 1, burst: 2))
    _ = layer.receive(LinuxCaptures.neighbourSolicitation, multicast: true, at: at(5))
    _ = layer.takeSent()
    for _ in 0..<5 { _ = layer.receive(LinuxCaptures.unknownNextHeader, at: at(5)) }
    #expect(layer.takeSent().count == 2)
    #expect(layer.icmpCounters.errorsRateLimited == 3)
  }

  @Test func atomicFragmentIsProcessedAlone() {
    var layer = layerB()
    let atomic = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .fragment,
        payloadLength: 0),
      payload: [17, 0, 0, 0, 0, 0, 0, 9] + [0, 1, 0, 2, 0, 8, 0, 0])
    guard case .local(let delivery) = layer.receive(atomic, at: at(5)) else {
      Issue.record("atomic fragment not delivered")
      return
    }
    #expect(delivery.payloadOffset == 48 && delivery.nextHeader == .udp)
    #expect(layer.counters.atomicFragmentsReceived == 1)
  }

  @Test func firstFragmentWithoutTheWholeChain() {
    var layer = layerB()
    // The first fragment carries 8 bytes of what should be a 20-byte TCP header (RFC 7112).
    let fragment = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .fragment,
        payloadLength: 0),
      payload: [6, 0, 0, 1, 0, 0, 0, 9] + [0, 1, 0, 2, 0, 0, 0, 0])
    _ = layer.receive(fragment, at: at(5))
    let sent = layer.takeSent()
    #expect(
      icmpv6Header(of: sent[0].bytes)
        == ICMPv6Header(type: .parameterProblem, code: 3, restOfHeader: 0))
    #expect(layer.counters.reassemblyIncompleteChains == 1)
  }

  @Test func reassemblyTimeoutSendsTimeExceeded() {
    var layer = layerB()
    _ = layer.receive(LinuxCaptures.fragmentedEchoRequest0, at: at(5))
    layer.poll(now: at(64.9))
    #expect(layer.counters.reassemblyTimeouts == 0)
    _ = layer.takeSent()
    layer.poll(now: at(65))
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    #expect(icmpv6Header(of: sent[0].bytes) == ICMPv6Header(type: .timeExceeded, code: 1))
    // It quotes the first fragment, as much as fits 1280 bytes.
    #expect(sent[0].bytes.count == 1280)
    #expect(
      Array(sent[0].bytes[48..<(48 + 80)]) == Array(LinuxCaptures.fragmentedEchoRequest0[0..<80]))
    #expect(layer.counters.reassemblyTimeouts == 1)
  }

  @Test func fragmentLengthRule() {
    var layer = layerB()
    // More fragments follow, but 3 bytes: parameter problem at the payload length field.
    let fragment = ipv6Packet(
      IPv6Header(
        source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .fragment,
        payloadLength: 0),
      payload: [17, 0, 0, 9, 0, 0, 0, 9] + [1, 2, 3])
    _ = layer.receive(fragment, at: at(5))
    let sent = layer.takeSent()
    #expect(
      icmpv6Header(of: sent[0].bytes)
        == ICMPv6Header(type: .parameterProblem, code: 0, restOfHeader: 4))
  }
}

extension IPv6Input {
  var isConsumed: Bool {
    if case .consumed = self { return true }
    return false
  }
}

extension MACAddress {
  /// The six octets.
  var octets6: [UInt8] { (0..<6).map { octet($0) } }
}
