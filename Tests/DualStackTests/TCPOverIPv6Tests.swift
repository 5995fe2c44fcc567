import IPv6
import NetCore
import NetStack
import TCP
import Testing

/// One TCP over IPv6: two TCP layers over two `IPv6Layer`s (inside `DualStackNetwork`s) on an
/// in-memory wire with a virtual clock. The same TCP the IPv4 tests and simulations run, no
/// second copy (RFC 9293 over RFC 8200).
struct TCPOverIPv6Tests {
  static let serverPort: UInt16 = 80

  /// A connects to B's port over IPv6; returns both ends once established.
  static func connected(_ wire: inout DualStackWire) throws -> (TCPConnectionID, TCPConnectionID) {
    let listener = try wire.b.tcp.listen(port: serverPort)
    let client = try wire.a.tcp.connect(
      to: .v6(DualStackWire.ipv6B), port: serverPort, now: wire.now, network: &wire.a.network)
    var server: TCPConnectionID?
    wire.run(until: wire.now + .seconds(10)) { wire in
      if server == nil { server = wire.b.tcp.accept(listener) }
      return server == nil || wire.a.tcp.state(client) != .established
    }
    return (client, try #require(server))
  }

  @Test func aHandshakeOverIPv6NamesBothEndsByTheirIPv6Addresses() throws {
    var wire = DualStackWire()
    let (client, server) = try Self.connected(&wire)
    let clientInfo = try #require(wire.a.tcp.info(client))
    let serverInfo = try #require(wire.b.tcp.info(server))
    #expect(clientInfo.state == .established && serverInfo.state == .established)
    #expect(clientInfo.tuple.localAddress == .v6(DualStackWire.ipv6A))
    #expect(clientInfo.tuple.remoteAddress == .v6(DualStackWire.ipv6B))
    #expect(serverInfo.tuple.localAddress == .v6(DualStackWire.ipv6B))
    #expect(serverInfo.tuple.remoteAddress == .v6(DualStackWire.ipv6A))
    #expect(serverInfo.tuple.remotePort == clientInfo.tuple.localPort)
    #expect(clientInfo.tuple.description.hasPrefix("[fd00:1::1]:"))
    // The MSS each end offered and took: 1500 − 40 − 20 (over IPv4 it would be 1460).
    #expect(clientInfo.sendMaximumSegmentSize == 1440)
    #expect(serverInfo.sendMaximumSegmentSize == 1440)
  }

  /// 1 MB each way at once, byte-exact, then FIN both ways: both ends close cleanly.
  @Test func aMegabyteEachWayArrivesIntactAndBothEndsClose() throws {
    var wire = DualStackWire()
    let result = try Self.transfer(&wire, bytes: 1 << 20)
    #expect(result.failure == nil, "\(result.failure ?? "")")
    #expect(result.intact && result.closedCleanly)
    #expect(wire.a.tcp.counters.retransmissionTimeouts == 0)
  }

  /// The impairments of the IPv4 simulation's seeds (SimulatedTCPTests): loss from 0 to 10 %,
  /// reordering up to 10 %, duplication and corruption up to 2 %, one-way delay 0.1 to 20 ms.
  static func impairment(for seed: UInt64) -> ImpairmentConfiguration {
    var random = PseudoRandomGenerator(seed: seed ^ 0x5EED)
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = random.next(below: 100_001)
    impairment.reorderPerMillion = random.next(below: 100_001)
    impairment.duplicatePerMillion = random.next(below: 20_001)
    impairment.corruptPerMillion = random.next(below: 20_001)
    impairment.delay = .microseconds(Int64(100 + random.next(below: 19_901)))
    return impairment
  }

  @Test(arguments: 1...100)
  func anImpairedIPv6WireStillCarriesAMegabyteEachWay(seed: Int) throws {
    let seed = UInt64(seed)
    let impairment = Self.impairment(for: seed)
    var wire = DualStackWire(impairment: impairment, seed: seed)
    let result = try Self.transfer(&wire, bytes: 1 << 20)
    #expect(
      result.failure == nil && result.intact && result.closedCleanly,
      "seed \(seed), loss \(impairment.lossPerMillion) ppm: \(result.failure ?? "not closed")")
    // The loss was real: what was lost was sent again.
    if impairment.lossPerMillion >= 10_000 {
      let retransmitted =
        wire.a.tcp.counters.segmentsRetransmitted + wire.b.tcp.counters.segmentsRetransmitted
      #expect(retransmitted > 0, "seed \(seed)")
    }
  }

  /// A SYN to a port nobody listens on is answered with a RST (RFC 9293 §3.10.7.1): the
  /// connection fails as refused, at once, over IPv6 as over IPv4.
  @Test func aClosedPortAnswersReset() throws {
    var wire = DualStackWire()
    let client = try wire.a.tcp.connect(
      to: .v6(DualStackWire.ipv6B), port: 81, now: wire.now, network: &wire.a.network)
    let start = wire.now
    wire.run(until: wire.now + .seconds(10)) { wire in wire.a.tcp.error(client) == nil }
    #expect(wire.a.tcp.error(client) == .connectionRefused)
    #expect(wire.now - start < .seconds(1))
    #expect(wire.b.tcp.counters.segmentsToClosedPort == 1)
    #expect(wire.b.tcp.counters.resetsSent == 1)
  }

  struct TransferResult {
    var intact = false
    var closedCleanly = false
    var failure: String?
  }

  /// Connects A to B over IPv6 and sends `bytes` each way, both ends half-closing when done.
  static func transfer(_ wire: inout DualStackWire, bytes: Int) throws -> TransferResult {
    let (client, server) = try connected(&wire)
    var left = StreamTransfer(
      id: client, toSend: bytes, toReceive: bytes, sendSide: 1, receiveSide: 2)
    var right = StreamTransfer(
      id: server, toSend: bytes, toReceive: bytes, sendSide: 2, receiveSide: 1)
    wire.run(until: wire.now + .seconds(600)) { wire in
      left.pump(&wire.a.tcp, now: wire.now)
      right.pump(&wire.b.tcp, now: wire.now)
      return left.failure == nil && right.failure == nil && !(left.closed && right.closed)
    }
    // The last ACKs and FINs settle.
    wire.run(until: wire.now + .seconds(5))
    var result = TransferResult()
    result.failure = left.failure ?? right.failure
    if result.failure == nil && !(left.closed && right.closed) {
      result.failure =
        "not finished: A received \(left.received), B received \(right.received) of \(bytes)"
    }
    result.intact = left.received == bytes && right.received == bytes
    let ends = [wire.a.tcp.info(client), wire.b.tcp.info(server)]
    result.closedCleanly = ends.allSatisfy { info in
      guard let info else { return true }
      return (info.state == .closed || info.state == .timeWait) && info.error == nil
    }
    return result
  }
}

extension TCPOverIPv6Tests {
  /// A peer whose SYN carries no MSS option is sent segments of the family's default
  /// (RFC 9293 §3.7.1): 1220 bytes over IPv6, where IPv4's 536 would waste the 1280 minimum.
  @Test func withoutAnMSSOptionTheIPv6DefaultIs1220() throws {
    var wire = DualStackWire()
    let listener = try wire.b.tcp.listen(port: Self.serverPort)
    // The peer's SYN, from A's address and an unused port, with no options at all.
    let header = TCPHeader(
      sourcePort: 40_002, destinationPort: Self.serverPort, sequenceNumber: SequenceNumber(7),
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 65535, options: TCPOptions())
    let segment = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 64)
    header.prepend(
      to: segment, source: .v6(DualStackWire.ipv6A), destination: .v6(DualStackWire.ipv6B))
    let delivery = TransportDelivery(
      source: .v6(DualStackWire.ipv6A), destination: .v6(DualStackWire.ipv6B))
    segment.withBytes { bytes in
      wire.b.tcp.input(delivery, segment: bytes, now: wire.now, network: &wire.b.network)
    }
    wire.b.tcp.flush(now: wire.now, network: &wire.b.network)
    var halfOpen: [TCPConnectionInfo] = []
    wire.b.tcp.forEachConnection { _, info in
      if info.tuple.remotePort == 40_002 { halfOpen.append(info) }
    }
    #expect(halfOpen.count == 1)
    #expect(halfOpen.first?.state == .synReceived)
    #expect(halfOpen.first?.sendMaximumSegmentSize == 1220)
    #expect(wire.b.tcp.accept(listener) == nil)
  }
}
