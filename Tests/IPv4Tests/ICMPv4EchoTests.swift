import IPv4
import NetCore
import Testing

/// Answering ping: the reply must be what Linux sends, byte for byte.
struct ICMPv4EchoTests {
  typealias C = LinuxCaptures

  func receive(
    _ bytes: [UInt8], _ layer: inout IPv4Layer<RecordingLink>, linkBroadcast: Bool = false,
    at now: Instant = .zero
  ) -> IPv4Input {
    layer.receive(bytes.span, linkBroadcast: linkBroadcast, now: now)
  }

  /// With the identification counter where Linux's was, the reply is Linux's reply.
  @Test func repliesExactlyAsLinuxDoes() {
    var layer = makeLayer(identificationSeed: 0xEB78 - 1)
    guard case .consumed = receive(C.echoRequest, &layer) else {
      Issue.record("ICMP is handled by the layer")
      return
    }
    #expect(layer.takeSent() == [SentPacket(bytes: C.echoReply, nextHop: C.va)])
    #expect(layer.icmpCounters.echoRequestsReceived == 1)
    #expect(layer.icmpCounters.echoRepliesSent == 1)
    #expect(layer.counters.packetsSent == 1)

    var small = makeLayer(identificationSeed: 0xEB93 - 1)
    _ = receive(C.smallEchoRequest, &small)
    #expect(small.takeSent() == [SentPacket(bytes: C.smallEchoReply, nextHop: C.va)])
  }

  /// A request with IP options is answered without them; the ICMP message is Linux's.
  @Test func repliesToARequestWithOptions() throws {
    var layer = makeLayer()
    _ = receive(C.recordRouteRequest, &layer)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    let reply = try #require(sent.first).bytes
    let packet = try IPv4Packet(checking: reply.span)
    #expect(packet.headerLength == 20)
    #expect(packet.source == C.vb && packet.destination == C.va)
    #expect(packet.payload.copyToArray() == Array(C.recordRouteReply[60...]))
  }

  /// A fragmented ping is reassembled and its reply fragmented as Linux fragments it.
  @Test func repliesToAFragmentedPingWithLinuxsFragments() {
    var layer = makeLayer(identificationSeed: 0xEBFA - 1)
    for fragment in C.fragmentedRequest {
      guard case .consumed = receive(fragment, &layer) else {
        Issue.record("fragments and ICMP are consumed")
        return
      }
    }
    #expect(layer.takeSent() == C.fragmentedReply.map { SentPacket(bytes: $0, nextHop: C.va) })
    #expect(layer.counters.fragmentsReceived == 3)
    #expect(layer.counters.datagramsReassembled == 1)
    #expect(layer.counters.fragmentsSent == 3)
    #expect(layer.icmpCounters.echoRepliesSent == 1)
  }

  @Test func repliesWhateverOrderTheFragmentsCameIn() {
    for order in [[2, 1, 0], [1, 2, 0], [0, 2, 1]] {
      var layer = makeLayer(identificationSeed: 0xEBFA - 1)
      for index in order { _ = receive(C.fragmentedRequest[index], &layer) }
      #expect(layer.takeSent().map(\.bytes) == C.fragmentedReply)
    }
  }

  /// RFC 1122 §3.2.2.6 allows silence for broadcast echo; Linux is silent by default.
  @Test func ignoresBroadcastAndMulticastEcho() {
    var layer = makeLayer()
    _ = receive(C.broadcastEchoRequest, &layer, linkBroadcast: true)
    var limited = C.broadcastEchoRequest
    limited.replaceSubrange(16..<20, with: [255, 255, 255, 255])
    fixHeaderChecksum(&limited)
    _ = receive(limited, &layer, linkBroadcast: true)
    var multicast = C.broadcastEchoRequest
    multicast.replaceSubrange(16..<20, with: [224, 0, 0, 1])
    fixHeaderChecksum(&multicast)
    _ = receive(multicast, &layer, linkBroadcast: true)
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.echoRequestsReceived == 3)
    #expect(layer.icmpCounters.droppedBroadcastEcho == 3)
  }

  @Test func answersBroadcastEchoWhenAskedToFromItsOwnAddress() throws {
    var layer = makeLayer()
    layer.answersBroadcastEcho = true
    _ = receive(C.broadcastEchoRequest, &layer, linkBroadcast: true)
    let sent = layer.takeSent()
    #expect(sent.count == 1)
    let reply = try #require(sent.first)
    let packet = try IPv4Packet(checking: reply.bytes.span)
    #expect(packet.source == C.vb)  // not the broadcast address it was sent to
    #expect(packet.destination == C.va)
    #expect(reply.nextHop == C.va)
  }

  @Test func copiesTheTypeOfService() throws {
    var layer = makeLayer()
    var request = C.echoRequest
    request[1] = 0xB8
    fixHeaderChecksum(&request)
    _ = receive(request, &layer)
    let reply = try #require(layer.takeSent().first)
    #expect(reply.bytes[1] == 0xB8)
  }

  @Test func dropsBadOrTruncatedICMP() {
    var layer = makeLayer()
    var badChecksum = C.echoRequest
    badChecksum[40] ^= 1
    _ = receive(badChecksum, &layer)
    #expect(layer.icmpCounters.droppedBadChecksum == 1)
    var truncated = Array(C.echoRequest[..<24])
    truncated[3] = 24
    fixHeaderChecksum(&truncated)
    _ = receive(truncated, &layer)
    #expect(layer.icmpCounters.droppedTruncated == 1)
    #expect(layer.icmpCounters.messagesReceived == 2)
    #expect(layer.icmpCounters.echoRequestsReceived == 0)
    #expect(layer.takeSent().isEmpty)
  }

  @Test func noReplyWithoutARouteBack() {
    var layer = makeLayer()
    var request = C.echoRequest
    request.replaceSubrange(12..<16, with: [192, 0, 2, 1])  // off-link, no gateway
    fixHeaderChecksum(&request)
    // Fix the ICMP checksum? Not needed: it covers only the ICMP message.
    _ = receive(request, &layer)
    #expect(layer.takeSent().isEmpty)
    #expect(layer.icmpCounters.echoRepliesSent == 0)
    #expect(layer.counters.sendNoRoute == 1)
  }

  @Test func sendsEchoRequestsAndCollectsReplies() throws {
    var layer = makeLayer(identificationSeed: 0x20D0 - 1)
    let data = Array(C.echoRequest[28...])
    try layer.sendEchoRequest(
      to: C.va, identifier: 0x273A, sequence: 1, payload: data.span, now: .zero)
    // The same message Linux sent, from vb to va, without DF (the stack sets it only for TCP).
    var expected = C.echoRequest
    expected[6] = 0
    expected.replaceSubrange(12..<20, with: [10, 77, 0, 2, 10, 77, 0, 1])
    fixHeaderChecksum(&expected)
    #expect(layer.takeSent() == [SentPacket(bytes: expected, nextHop: C.va)])
    #expect(layer.icmpCounters.echoRequestsSent == 1)

    // Linux's reply to it, arriving 2 ms later, swapped around to come to us.
    var reply = C.echoRequest
    reply.replaceSubrange(12..<20, with: [10, 77, 0, 1, 10, 77, 0, 2])
    reply[20] = 0  // echo reply
    reply[22] = 0x96  // checksum: 0x8e88 + 0x0800
    fixHeaderChecksum(&reply)
    _ = receive(reply, &layer, at: Instant(nanoseconds: 2_000_000))
    #expect(layer.echoReplies.count == 1)
    let collected = try #require(layer.echoReplies.first)
    #expect(collected.source == C.va)
    #expect(collected.identifier == 0x273A && collected.sequence == 1)
    #expect(collected.payloadLength == 56)
    #expect(collected.receivedAt == Instant(nanoseconds: 2_000_000))
    #expect(layer.icmpCounters.echoRepliesReceived == 1)
  }

  @Test func boundsTheQueueOfUnclaimedReplies() {
    var layer = makeLayer()
    layer.echoReplies = BoundedQueue(limit: 2)
    var reply = C.echoReply
    reply.replaceSubrange(12..<20, with: [10, 77, 0, 1, 10, 77, 0, 2])
    fixHeaderChecksum(&reply)
    for _ in 0..<3 { _ = receive(reply, &layer) }
    #expect(layer.echoReplies.count == 2)
    #expect(layer.icmpCounters.droppedUnclaimedReplies == 1)
  }
}
