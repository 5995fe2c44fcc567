import ARP
import ARPCaptures
import Ethernet
import IPv4OverEthernet
import NetCore
import Testing

/// IPv4 over Ethernet with ARP: answering, learning, queueing while resolving, filtering,
/// handing up the IPv4 packet a frame carries, padding what it sends.
struct EthernetLinkTests {
  typealias C = LinuxARPCaptures

  /// What ``EthernetLink/receive(_:now:)`` returned, copied out of the frame so that a test
  /// can compare it.
  enum Outcome: Equatable {
    case ipv4(packet: [UInt8], linkBroadcast: Bool)
    case ipv6(packet: [UInt8], linkMulticast: Bool)
    case consumed
  }

  /// A link with vb's MAC and 10.77.0.2/24 (or another address), its announcement drained.
  func makeLink(
    mac: MACAddress = C.vb, address: IPv4Address = C.vbAddress,
    cache: ARPCache.Configuration = ARPCache.Configuration(), transmitQueueLimit: Int = 4096
  ) -> EthernetLink {
    var link = EthernetLink(
      hardwareAddress: mac, cacheConfiguration: cache, transmitQueueLimit: transmitQueueLimit)
    link.setAddress(IPv4CIDR(address: address, prefixLength: 24), now: .zero)
    _ = drain(&link)
    return link
  }

  func drain(_ link: inout EthernetLink) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while let packet = link.transmitQueue.popFirst() {
      frames.append(packet.withBytes { $0.copyToArray() })
    }
    return frames
  }

  func receive(_ frame: [UInt8], _ link: inout EthernetLink, at now: Instant = .zero)
    -> Outcome
  {
    switch link.receive(frame.span, now: now) {
    case .ipv4(let packet, let linkBroadcast):
      .ipv4(packet: packet.copyToArray(), linkBroadcast: linkBroadcast)
    case .ipv6(let packet, let linkMulticast):
      .ipv6(packet: packet.copyToArray(), linkMulticast: linkMulticast)
    case .consumed:
      .consumed
    }
  }

  /// An IPv4 packet as the stack allocates one: headroom for the headers and exactly the
  /// packet's bytes, every byte `tag`.
  func packet(_ tag: UInt8, length: Int = 40) -> PacketBuffer {
    let buffer = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + length)
    buffer.append(copying: [UInt8](repeating: tag, count: length).span)
    return buffer
  }

  func arpFrame(
    _ operation: ARPOperation, sender: MACAddress, _ senderAddress: IPv4Address,
    target: MACAddress = .zero, _ targetAddress: IPv4Address,
    destination: MACAddress = .broadcast, source: MACAddress? = nil
  ) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 14)
    var headerSpan = header.mutableSpan
    EthernetHeader(destination: destination, source: source ?? sender, etherType: .arp)
      .emit(into: &headerSpan)
    var body = [UInt8](repeating: 0, count: 28)
    var bodySpan = body.mutableSpan
    ARPMessage(
      operation: operation, senderHardwareAddress: sender, senderProtocolAddress: senderAddress,
      targetHardwareAddress: target, targetProtocolAddress: targetAddress
    ).emit(into: &bodySpan)
    return header + body
  }

  func at(_ seconds: Double) -> Instant {
    Instant(nanoseconds: Int64(seconds * 1_000_000_000))
  }

  // MARK: Answering

  @Test func answersARequestWithLinuxsExactReply() {
    var link = makeLink()
    #expect(receive(C.request, &link, at: at(1)) == .consumed)
    #expect(drain(&link) == [C.padded(C.reply)])
    #expect(link.arpCounters.requestsReceived == 1)
    #expect(link.arpCounters.repliesSent == 1)
    // The announcement made when the address was set, and the reply.
    #expect(link.ethernetCounters.framesSent == 2)
    // The requester was learned: it asked us, so it will talk to us.
    #expect(link.cache.entry(for: C.vaAddress)?.state == .reachable(C.va, until: at(31)))
  }

  @Test func answersAUnicastProbeLikeLinux() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    _ = receive(C.unicastProbe, &link)
    #expect(drain(&link) == [C.padded(C.unicastProbeReply)])
  }

  /// RFC 5227 probe (sender 0.0.0.0): answered, unicast, as Linux does; nothing learned.
  @Test func answersAnAddressProbeLikeLinux() {
    var link = makeLink()
    _ = receive(C.addressProbe, &link)
    #expect(drain(&link) == [C.padded(C.addressProbeReply)])
    #expect(link.cache.entries.isEmpty)
  }

  @Test func ignoresRequestsForOtherAddresses() {
    var link = makeLink(address: IPv4Address(10, 77, 0, 3))
    _ = receive(C.request, &link)
    #expect(drain(&link).isEmpty)
    #expect(link.arpCounters.requestsReceived == 1)
    #expect(link.arpCounters.repliesSent == 0)
    // Not for us and not known: not learned (RFC 826 merge rule).
    #expect(link.cache.entry(for: C.vaAddress) == nil)
  }

  @Test func answersNothingWithoutAnAddress() {
    var link = EthernetLink(hardwareAddress: C.vb)
    link.setAddress(nil, now: .zero)
    #expect(drain(&link).isEmpty)
    _ = receive(C.request, &link)
    #expect(drain(&link).isEmpty)
    #expect(link.cache.entries.isEmpty)
  }

  /// RFC 5227 §3: setting an address broadcasts a request with sender and target both ours.
  @Test func announcesItsAddressWithGratuitousARP() {
    var link = EthernetLink(hardwareAddress: C.vb)
    link.setAddress(IPv4CIDR(address: C.vbAddress, prefixLength: 24), now: .zero)
    let expected: [UInt8] = [
      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x4E, 0x53, 0x00, 0x00, 0x02, 0x08, 0x06,
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
      0x02, 0x4E, 0x53, 0x00, 0x00, 0x02, 0x0A, 0x4D, 0x00, 0x02,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0A, 0x4D, 0x00, 0x02,
    ]
    #expect(drain(&link) == [C.padded(expected)])
    #expect(link.arpCounters.requestsSent == 1)
    link.announce()
    #expect(drain(&link) == [C.padded(expected)])
  }

  // MARK: Learning

  @Test func gratuitousARPUpdatesOnlyKnownAddresses() {
    var link = makeLink()
    _ = receive(C.gratuitous, &link, at: at(1))
    #expect(link.cache.entry(for: C.vaAddress) == nil)
    #expect(drain(&link).isEmpty)
    // Once known (here: stale with an old MAC), the announcement updates it.
    let old = MACAddress(0x02, 0, 0, 0, 0, 0x77)
    _ = receive(
      arpFrame(.request, sender: old, C.vaAddress, C.vbAddress), &link, at: at(2))
    _ = drain(&link)
    #expect(link.cache.entry(for: C.vaAddress)?.state.hardwareAddress == old)
    _ = receive(C.gratuitous, &link, at: at(3))
    #expect(link.cache.entry(for: C.vaAddress)?.state == .reachable(C.va, until: at(33)))
  }

  @Test func countsAddressConflicts() {
    var link = makeLink()
    let intruder = MACAddress(0x02, 0, 0, 0, 0, 0x66)
    // Another host announcing, asking with, or replying from our address.
    _ = receive(arpFrame(.request, sender: intruder, C.vbAddress, C.vbAddress), &link)
    _ = receive(arpFrame(.request, sender: intruder, C.vbAddress, C.vaAddress), &link)
    _ = receive(
      arpFrame(.reply, sender: intruder, C.vbAddress, target: C.vb, C.vbAddress, destination: C.vb),
      &link)
    #expect(link.arpCounters.addressConflicts == 3)
    #expect(drain(&link).isEmpty)
    #expect(link.cache.entry(for: C.vbAddress) == nil)
  }

  @Test func dropsARPWithImpossibleSenders() {
    var link = makeLink()
    let multicastMAC = MACAddress(0x01, 0, 0x5E, 0, 0, 1)
    // Multicast sender hardware address (Ethernet source stays a unicast one).
    _ = receive(
      arpFrame(.request, sender: multicastMAC, C.vaAddress, C.vbAddress, source: C.va), &link)
    _ = receive(arpFrame(.request, sender: C.va, .broadcast, C.vbAddress), &link)
    _ = receive(arpFrame(.request, sender: C.va, IPv4Address(224, 0, 0, 5), C.vbAddress), &link)
    _ = receive(arpFrame(.request, sender: C.va, IPv4Address(240, 0, 0, 5), C.vbAddress), &link)
    #expect(link.arpCounters.droppedBadAddress == 4)
    #expect(drain(&link).isEmpty)
    #expect(link.cache.entries.isEmpty)
  }

  @Test func dropsMalformedARP() {
    var link = makeLink()
    _ = receive(Array(C.request[..<40]), &link)
    #expect(link.arpCounters.droppedTruncated == 1)
    var ieee802 = C.request
    ieee802[15] = 6
    _ = receive(ieee802, &link)
    var rarp = C.request
    rarp[21] = 3
    _ = receive(rarp, &link)
    var ipv6 = C.request
    ipv6[19] = 16
    _ = receive(ipv6, &link)
    #expect(link.arpCounters.droppedUnsupported == 3)
    #expect(link.arpCounters.requestsReceived == 0)
    #expect(drain(&link).isEmpty)
  }

  // MARK: Sending

  @Test func queuesWhileResolvingAndReleasesInOrder() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    for tag: UInt8 in 1...3 { link.send(packet(tag), to: C.vbAddress, now: at(0)) }
    // One request, byte for byte the one Linux sent for the same question.
    #expect(drain(&link) == [C.padded(C.request)])
    #expect(link.pendingCount == 3)
    #expect(link.arpCounters.requestsSent == 2)  // the announcement, then this
    #expect(link.nextDeadline == at(1))

    #expect(receive(C.reply, &link, at: at(0.01)) == .consumed)
    let frames = drain(&link)
    #expect(frames.count == 3)
    for (index, frame) in frames.enumerated() {
      #expect(Array(frame[0..<6]) == [0x02, 0x4E, 0x53, 0x00, 0x00, 0x02])
      #expect(Array(frame[6..<12]) == [0x02, 0x4E, 0x53, 0x00, 0x00, 0x01])
      #expect(frame[12] == 0x08 && frame[13] == 0x00)
      #expect(frame.count == 60)  // 14 + 40, padded
      #expect(frame[14..<54].allSatisfy { $0 == UInt8(index + 1) })
      #expect(frame[54...].allSatisfy { $0 == 0 })
    }
    #expect(link.pendingCount == 0)
    #expect(link.arpCounters.repliesReceived == 1)
    #expect(link.nextDeadline == nil)

    // Resolved: the next packet goes straight out.
    link.send(packet(9), to: C.vbAddress, now: at(0.5))
    let direct = drain(&link)
    #expect(direct.count == 1 && direct[0][14] == 9)
    // Nothing to retransmit.
    link.poll(now: at(5))
    #expect(drain(&link).isEmpty)
  }

  @Test func dropsAndCountsPacketsWhenResolutionFails() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    let silent = IPv4Address(10, 77, 0, 9)
    link.send(packet(1), to: silent, now: at(0))
    link.send(packet(2), to: silent, now: at(0.5))
    var requests = drain(&link)
    link.poll(now: at(1))
    requests += drain(&link)
    link.poll(now: at(2))
    requests += drain(&link)
    #expect(requests.count == 3)
    for request in requests {
      #expect(Array(request[0..<6]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
      #expect(Array(request[38..<42]) == [10, 77, 0, 9])
    }
    link.poll(now: at(3))
    #expect(drain(&link).isEmpty)
    #expect(link.pendingCount == 0)
    #expect(link.arpCounters.resolutionFailures == 1)
    #expect(link.arpCounters.pendingTimedOut == 2)
    #expect(link.nextDeadline == nil)
    // A late reply does not resurrect the packets.
    _ = receive(
      arpFrame(.reply, sender: C.vb, silent, target: C.va, C.vaAddress, destination: C.va), &link)
    #expect(drain(&link).isEmpty)
  }

  @Test func boundsPacketsPerDestinationAndInTotal() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    for _ in 0..<65 { link.send(packet(0), to: IPv4Address(10, 77, 0, 10), now: .zero) }
    #expect(link.pendingCount == 64)
    #expect(link.arpCounters.pendingOverflow == 1)
    for host in 11...13 {
      for _ in 0..<64 { link.send(packet(0), to: IPv4Address(10, 77, 0, UInt8(host)), now: .zero) }
    }
    #expect(link.pendingCount == 256)
    #expect(link.arpCounters.pendingOverflow == 1)
    link.send(packet(0), to: IPv4Address(10, 77, 0, 14), now: .zero)
    #expect(link.pendingCount == 256)
    #expect(link.arpCounters.pendingOverflow == 2)
    // Each destination still got exactly one request (plus the announcement).
    #expect(link.arpCounters.requestsSent == 1 + 5)
  }

  /// Packets waiting for an address whose cache entry was evicted (the cache full of
  /// addresses being resolved) must not stay queued for ever.
  @Test func evictedResolutionsDoNotStrandPackets() {
    var configuration = ARPCache.Configuration()
    configuration.capacity = 2
    var link = makeLink(mac: C.va, address: C.vaAddress, cache: configuration)
    for host in 5...7 {
      link.send(packet(UInt8(host)), to: IPv4Address(10, 77, 0, UInt8(host)), now: at(0))
    }
    #expect(link.cache.entries.count == 2)
    for second in 1...3 { link.poll(now: at(Double(second))) }
    #expect(link.pendingCount == 0)
    #expect(link.arpCounters.pendingTimedOut == 3)
  }

  @Test func broadcastAndMulticastNeedNoResolution() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    link.send(packet(1), to: .broadcast, now: .zero)
    link.send(packet(2), to: IPv4Address(10, 77, 0, 255), now: .zero)
    link.send(packet(3), to: IPv4Address(224, 0, 0, 251), now: .zero)
    let frames = drain(&link)
    #expect(frames.count == 3)
    #expect(Array(frames[0][0..<6]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    #expect(Array(frames[1][0..<6]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    #expect(Array(frames[2][0..<6]) == [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB])
    #expect(link.cache.entries.isEmpty && link.pendingCount == 0)
  }

  @Test func staleEntryIsUsedAndProbedByUnicast() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    link.send(packet(1), to: C.vbAddress, now: at(0))
    _ = receive(C.reply, &link, at: at(0))
    _ = drain(&link)
    link.poll(now: at(30))
    #expect(link.cache.entry(for: C.vbAddress)?.state == .stale(C.vb, since: at(30)))
    link.send(packet(2), to: C.vbAddress, now: at(40))
    let frames = drain(&link)
    #expect(frames.count == 2)
    #expect(frames[0][14] == 2)
    // Then a unicast request to the known MAC, sender ours.
    let probe = arpFrame(.request, sender: C.va, C.vaAddress, C.vbAddress, destination: C.vb)
    #expect(frames[1] == C.padded(probe))
    // Unanswered probes are retried by poll, to the same MAC.
    link.poll(now: at(41))
    #expect(drain(&link) == [C.padded(probe)])
  }

  /// RFC 894: frames shorter than 60 bytes go out padded with zeros, also when the packet
  /// was allocated with no room to spare (as a small UDP or ICMP message is).
  @Test func padsShortFramesToSixtyBytes() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    link.send(packet(1), to: C.vbAddress, now: .zero)
    _ = receive(C.reply, &link)
    _ = drain(&link)
    for length in [20, 28, 45, 46, 47] {
      link.send(packet(0xAB, length: length), to: C.vbAddress, now: .zero)
      let frames = drain(&link)
      #expect(frames.count == 1)
      guard let frame = frames.first else { continue }
      #expect(frame.count == max(60, 14 + length), "length \(length)")
      #expect(frame[14..<(14 + length)].allSatisfy { $0 == 0xAB })
      #expect(frame[(14 + length)...].allSatisfy { $0 == 0 })
    }
  }

  /// The padding is zeros, whatever the buffer's tailroom held before.
  @Test(arguments: [0, 1, 28, 45, 46, 47, 100, 1500])
  func padsWithZerosOnlyWhenShort(length: Int) {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    let packet = PacketBuffer(capacity: 160 + 1514)
    packet.append(1514)
    packet.withMutableBytes { bytes in
      for index in 0..<bytes.count { bytes[index] = 0xA5 }
    }
    packet.removeLast(1514 - length)
    packet.withMutableBytes { bytes in
      for index in 0..<bytes.count { bytes[index] = 0x11 }
    }
    link.send(packet, to: .broadcast, now: .zero)
    let frames = drain(&link)
    #expect(frames.count == 1)
    guard let frame = frames.first else { return }
    #expect(frame.count == max(60, 14 + length))
    #expect(frame[14..<(14 + length)].allSatisfy { $0 == 0x11 })
    #expect(frame[(14 + length)...].allSatisfy { $0 == 0 })
  }

  /// The link pads in place when the packet's buffer has room, and copies the packet into one
  /// that has when it has not; its own buffers always have room, whatever was asked for.
  @Test func copiesOnlyAPacketWithNoRoomForThePadding() {
    var link = makeLink(mac: C.va, address: C.vaAddress)
    let roomy = link.makePacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + 20, headroom: PacketBuffer.defaultHeadroom)
    #expect(roomy.tailroom >= EthernetLink.minimumPacketLength)
    roomy.append(copying: [UInt8](repeating: 0xCD, count: 20).span)
    link.send(roomy, to: .broadcast, now: .zero)
    #expect(link.transmitQueue.popFirst() === roomy)

    let tight = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 20)
    tight.append(copying: [UInt8](repeating: 0xCD, count: 20).span)
    link.send(tight, to: .broadcast, now: .zero)
    let sent = link.transmitQueue.popFirst()
    #expect(sent != nil && sent !== tight)
    #expect(sent?.count == 60 && sent?.headroom == PacketBuffer.defaultHeadroom - 14)
    #expect(tight.count == 20)
  }

  @Test func countsTransmitQueueOverflow() {
    var link = makeLink(mac: C.va, address: C.vaAddress, transmitQueueLimit: 2)
    for tag: UInt8 in 0..<5 { link.send(packet(tag), to: .broadcast, now: .zero) }
    #expect(link.transmitQueue.count == 2)
    #expect(link.transmitQueueDrops == 3)
    #expect(link.ethernetCounters.framesSent == 1 + 2)
  }

  @Test func requestsWithoutAnAddressUseTheUnspecifiedSender() {
    var link = EthernetLink(hardwareAddress: C.va)
    link.send(packet(1), to: C.vbAddress, now: .zero)
    let request = arpFrame(.request, sender: C.va, .any, C.vbAddress)
    #expect(drain(&link) == [C.padded(request)])
  }

  // MARK: Receiving

  @Test func demultiplexesAndFiltersFrames() {
    var link = makeLink()
    // The IPv4 packet is the frame after its 14-byte header.
    let packet = Array(C.echoRequest[14...])
    #expect(receive(C.echoRequest, &link) == .ipv4(packet: packet, linkBroadcast: false))
    var broadcast = C.echoRequest
    broadcast.replaceSubrange(0..<6, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    #expect(receive(broadcast, &link) == .ipv4(packet: packet, linkBroadcast: true))
    var allHosts = C.echoRequest
    allHosts.replaceSubrange(0..<6, with: [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01])
    #expect(receive(allHosts, &link) == .ipv4(packet: packet, linkBroadcast: true))
    #expect(link.ethernetCounters.framesReceived == 3)

    var mdns = C.echoRequest
    mdns.replaceSubrange(0..<6, with: [0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB])
    #expect(receive(mdns, &link) == .consumed)
    #expect(link.ethernetCounters.droppedNotJoined == 1)
    #expect(link.joinMulticastGroup(IPv4Address(224, 0, 0, 251)) == true)
    #expect(receive(mdns, &link) == .ipv4(packet: packet, linkBroadcast: true))

    var otherHost = C.echoRequest
    otherHost.replaceSubrange(0..<6, with: [0x02, 0x4E, 0x53, 0x00, 0x00, 0x09])
    #expect(receive(otherHost, &link) == .consumed)
    #expect(link.ethernetCounters.droppedNotForUs == 1)

    var looped = C.echoRequest
    looped.replaceSubrange(6..<12, with: [0x02, 0x4E, 0x53, 0x00, 0x00, 0x02])
    #expect(receive(looped, &link) == .consumed)
    var multicastSource = C.echoRequest
    multicastSource.replaceSubrange(6..<12, with: [0x03, 0x4E, 0x53, 0x00, 0x00, 0x01])
    #expect(receive(multicastSource, &link) == .consumed)
    #expect(link.ethernetCounters.droppedBadSource == 2)

    #expect(receive(Array(C.echoRequest[..<13]), &link) == .consumed)
    #expect(link.ethernetCounters.droppedTruncated == 1)

    // A VLAN tag (802.1Q) is no type the link handles.
    var tagged = C.echoRequest
    tagged[12] = 0x81
    tagged[13] = 0x00
    #expect(receive(tagged, &link) == .consumed)
    #expect(link.ethernetCounters.droppedUnknownType == 1)
    #expect(link.ethernetCounters.framesReceived == 10)
    #expect(drain(&link).isEmpty)
  }

  @Test func linkProperties() {
    let link = EthernetLink(hardwareAddress: C.va, mtu: 9000, supportsSegmentationOffload: true)
    #expect(link.mtu == 9000)
    #expect(link.headerLength == 14)
    #expect(link.supportsSegmentationOffload)
    #expect(link.address == nil)
    #expect(link.filter.address == C.va)
  }

  @Test func countersAreReportedByName() {
    var link = makeLink()
    _ = receive(C.request, &link)
    var names: [String] = []
    var values: [UInt64] = []
    link.arpCounters.forEachCounter { name, value in
      names.append(name.description)
      values.append(value)
    }
    #expect(names.count == 12)
    #expect(names.first == "requests_received" && values.first == 1)
    #expect(ARPCounters.groupName.description == "arp")
    var ethernetNames: [String] = []
    link.ethernetCounters.forEachCounter { name, _ in ethernetNames.append(name.description) }
    #expect(ethernetNames.contains("dropped_not_for_us"))
  }
}
