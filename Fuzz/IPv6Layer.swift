// Fuzz target: the whole IPv6 layer (Sources/IPv6/IPv6Layer*.swift and everything it uses:
// extension headers, reassembly, ICMPv6, neighbour discovery, address configuration, MLD).
//
// The layer is host A of Fuzz/capture-ipv6: 02:00:00:00:00:0a with fe80::ff:fe00:a/64,
// fd00:77::1/64 and fd00:77::ff:fe00:a/64 configured (duplicate address detection off, so
// that they are usable at once), accepting router advertisements and autoconfiguring, with
// small tables so that their bounds are reached. Its link records what it sends.
// Input: records, each one received packet:
//
//   byte 0   control: bit 0 the frame came to a link-layer group; bits 1-3 clock advance
//            before the packet: 0, 10 ms, 100 ms, 1 s, 5 s, 30 s, 61 s, 11 min;
//            bit 4 correct the payload length to what the record holds; bit 5 correct the
//            ICMPv6 checksum when the packet is ICMPv6 with no extension headers;
//            bit 6 afterwards, send 3000 bytes of UDP to fd00:77::2 (resolution, fragments)
//   1-2      packet length (big endian; cut to what the input has left)
//   ...      the IPv6 packet
//
// After each packet the layer is polled. Checks: nothing traps; every frame sent is an IPv6
// packet that parses, within the link MTU, from an address we have or had (or the unspecified
// address for detection and MLD), with a verifying ICMPv6 checksum when it is ICMPv6; every
// table stays within its bound; what is charged to the budget is what the layer holds; at the
// end, with every timer run out, nothing is held.
//
// Each input runs twice: with the layer as a host, and as a router (RFC 4861 §6.2:
// advertising fd00:77::/64 and a DNS server). As a router it must also never send two router
// advertisements less than MIN_DELAY_BETWEEN_RAS (3 s) apart, whatever solicitations come,
// and never take in a router, prefix or address from an advertisement.

import IPv6
import NetCore

private let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x0a)
private let neighbour = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 2)
private let udpPayload = [UInt8](repeating: 0x5a, count: 3000)

/// The link: records what the layer sends.
struct RecordingLink: IPv6Link {
  var mtu = 1500
  var headerLength = 14
  var supportsSegmentationOffload = false
  var hardwareAddress = ourMAC
  var sent: [(bytes: [UInt8], destination: MACAddress)] = []
  var groups: [IPv6Address] = []

  mutating func send(_ packet: PacketBuffer, to destination: MACAddress, now: Instant) {
    sent.append((packet.withBytes { $0.copyToArray() }, destination))
  }

  mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool {
    guard groups.count < 16 else { return false }
    if !groups.contains(group) { groups.append(group) }
    return true
  }

  mutating func leaveMulticastGroup(_ group: IPv6Address) { groups.removeAll { $0 == group } }
}

private let advances: [Interval] = [
  .zero, .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(5), .seconds(30),
  .seconds(61), .seconds(660),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  run(data, size, asRouter: false)
  run(data, size, asRouter: true)
  return 0
}

/// The router's advertisements: RFC 4861 §6.2.1's defaults for fd00:77::/64.
private let advertising = RouterAdvertiser.Configuration(
  prefix: try! IPv6CIDR(parsing: "fd00:77::/64"),
  dnsServers: [IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x53)], mtu: 1500)

private func run(_ data: UnsafePointer<UInt8>, _ size: Int, asRouter: Bool) {
  var input = FuzzReader(data, size)
  var lastAdvertisement: Instant? = nil
  var configuration = IPv6Layer<RecordingLink>.Configuration()
  configuration.addresses.detectionTransmits = 0
  configuration.addresses.capacity = 6
  configuration.neighbourCache.capacity = 8
  configuration.neighbourCache.queuedTotal = 16
  configuration.reassembly.maximumPackets = 4
  configuration.reassembly.maximumBytes = 64 << 10
  configuration.maximumRouters = 2
  configuration.maximumPrefixes = 3
  configuration.maximumDNSServers = 2
  configuration.maximumRedirects = 4
  configuration.pathMTU.capacity = 4
  let budget = MemoryBudget()
  var layer = IPv6Layer(
    link: RecordingLink(), configuration: configuration, secretKey: (1, 2), randomSeed: 3,
    budget: budget)
  var now = Instant.zero
  layer.start(now: now)
  for text in ["fe80::ff:fe00:a/64", "fd00:77::1/64", "fd00:77::ff:fe00:a/64"] {
    try? layer.addAddress(try! IPv6CIDR(parsing: text), now: now)
  }
  if asRouter { layer.startAdvertising(advertising, now: now) }
  layer.poll(now: now)
  var ours = Set(layer.addresses.map(\.address))
  checkSent(&layer, ours, now: now, lastAdvertisement: &lastAdvertisement)

  while !input.isAtEnd {
    let control = input.uint8()
    let length = Int(input.uint16())
    var packet = Array(input.bytes(length))
    now += advances[Int(control >> 1 & 7)]
    if control & 0x10 != 0, packet.count >= 40, packet.count - 40 <= 65535 {
      packet[4] = UInt8((packet.count - 40) >> 8)
      packet[5] = UInt8(truncatingIfNeeded: packet.count - 40)
    }
    if control & 0x20 != 0, packet.count >= 48, packet[6] == 58 {
      let length = min(packet.count - 40, Int(packet[4]) << 8 | Int(packet[5]))
      if length >= 8 {
        var message = Array(packet[40..<(40 + length)])
        fixChecksum(
          &message, range: 0..<message.count, at: 2,
          prefix: Array(packet[8..<40]) + [
            UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length), 0, 0, 0, 58,
          ])
        packet.replaceSubrange(40..<(40 + length), with: message)
      }
    }
    let input = packet.withUnsafeBufferPointer { buffer in
      layer.receive(Span(_unsafeElements: buffer), linkMulticast: control & 1 != 0, now: now)
    }
    switch input {
    case .local(let delivery):
      expect(delivery.payloadOffset + delivery.payloadLength <= packet.count, "delivery bounds")
    case .reassembled(let delivery, let buffer):
      expect(delivery.payloadOffset + delivery.payloadLength == buffer.count, "reassembled bounds")
    case .error(let report):
      expect(report.mtu.map { $0 >= 1280 } ?? true, "reported MTU")
      expect(report.quotedTransportHeader.count <= 40, "quoted transport")
    case .consumed:
      break
    }
    if control & 0x40 != 0 {
      let buffer = PacketBuffer(capacity: 256 + udpPayload.count, headroom: 256)
      buffer.append(copying: udpPayload.span)
      try? layer.send(buffer, nextHeader: .udp, to: neighbour, options: .init(), now: now)
    }
    ours.formUnion(layer.addresses.map(\.address))
    layer.poll(now: now)
    checkSent(&layer, ours, now: now, lastAdvertisement: &lastAdvertisement)
    ours.formUnion(layer.addresses.map(\.address))
    checkBounds(layer, configuration, budget)
    if asRouter {
      expect(layer.routers.routers.isEmpty, "a router took in a default router")
      expect(!layer.addresses.contains { $0.origin == .autoconfigured }, "a router autoconfigured")
    }
  }
  // Every timer runs out: reassembly, resolution, lifetimes.
  for _ in 0..<8 {
    now += .seconds(700)
    layer.poll(now: now)
    checkSent(&layer, ours, now: now, lastAdvertisement: &lastAdvertisement)
  }
  expect(layer.reassemblyBytesHeld == 0, "reassembly empty at the end")
  expect(layer.neighbourCache.queuedPackets == 0, "no packet waits at the end")
  expect(budget.used == 0, "budget given back")
}

/// Checks and forgets what the layer sent; `ours` holds every address the layer has had;
/// `lastAdvertisement` is when it last sent a router advertisement.
private func checkSent(
  _ layer: inout IPv6Layer<RecordingLink>, _ ours: Set<IPv6Address>, now: Instant,
  lastAdvertisement: inout Instant?
) {
  for (bytes, _) in layer.link.sent {
    expect(bytes.count <= layer.link.mtu, "a frame over the MTU: \(bytes.count)")
    guard let packet = try? IPv6Packet(checking: bytes.span) else {
      fatalError("the layer sent a packet that does not parse")
    }
    expect(packet.bytes.count == bytes.count, "sent length")
    let source = packet.source
    expect(
      source.isUnspecified || ours.contains(source)
        || layer.addresses.contains { $0.address == source },
      "a packet from \(source), not ours")
    var offset = 40
    if packet.nextHeader == .hopByHopOptions { offset = 48 }
    if bytes.count > offset && (packet.nextHeader == .icmpv6 || bytes[40] == 58 && offset == 48) {
      let message = packet.bytes.extracting(offset..<bytes.count)
      expect(
        (try? ICMPv6Packet(checking: message, source: source, destination: packet.destination))
          != nil, "an ICMPv6 message that does not verify")
      if offset == 40 && bytes[40] == 134 {
        expect(layer.isAdvertisingRouter, "a host sent a router advertisement")
        expect(source.isLinkLocal && packet.hopLimit == 255, "an advertisement's source, hop limit")
        if let last = lastAdvertisement {
          expect(now - last >= .seconds(3), "two advertisements within 3 s")
        }
        lastAdvertisement = now
      }
    }
  }
  layer.link.sent.removeAll()
}

private func checkBounds(
  _ layer: IPv6Layer<RecordingLink>, _ configuration: IPv6Layer<RecordingLink>.Configuration,
  _ budget: MemoryBudget
) {
  expect(layer.addresses.count <= configuration.addresses.capacity, "addresses")
  expect(layer.neighbourCache.entries.count <= configuration.neighbourCache.capacity, "neighbours")
  expect(layer.neighbourCache.queuedPackets <= configuration.neighbourCache.queuedTotal, "queued")
  expect(layer.routers.routers.count <= configuration.maximumRouters, "routers")
  expect(layer.prefixes.prefixes.count <= configuration.maximumPrefixes, "prefixes")
  expect(layer.dnsServers.servers.count <= configuration.maximumDNSServers, "DNS servers")
  expect(layer.redirects.redirects.count <= configuration.maximumRedirects, "redirects")
  expect(layer.pathMTUs.entries.count <= configuration.pathMTU.capacity, "path MTUs")
  expect(layer.reassemblyBytesHeld <= configuration.reassembly.maximumBytes, "reassembly")
  expect(layer.mtu >= 1280 && layer.mtu <= layer.link.mtu, "MTU")
  expect(
    budget.used(for: .reassembly) == layer.reassemblyBytesHeld, "reassembly budget")
}
