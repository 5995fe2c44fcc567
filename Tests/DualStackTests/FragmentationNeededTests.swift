import IPv4
import NetCore
import TCP
import Testing

/// IPv4 path MTU discovery (RFC 1191): a "fragmentation needed" (ICMP type 3 code 4) about a
/// TCP segment of ours reaches TCP as IPv6's packet too big does, after the RFC's checks: the
/// quote must be a datagram we sent, its segment must belong to a connection and carry a
/// sequence number in flight (RFC 5927 §4.1), and the MTU must be at least 68 (RFC 791); a
/// lower one than 552 is raised to 552, as Linux's `min_pmtu`.
struct FragmentationNeededTests {
  static let router = IPv4Address(10, 0, 0, 254)
  static let serverPort: UInt16 = 80

  /// The fragmentation needed a router sends A about `quoted` (an IPv4 datagram A sent),
  /// reporting `mtu`: the quote is the IP header and 8 bytes of TCP, all RFC 792 asks for.
  static func fragmentationNeeded(quoting quoted: [UInt8], mtu: Int, quoteLength: Int = 28)
    -> [UInt8]
  {
    let message = PacketBuffer(copying: Array(quoted.prefix(quoteLength)).span, headroom: 64)
    ICMPv4Header(
      type: .destinationUnreachable, code: ICMPv4UnreachableCode.fragmentationNeeded.rawValue,
      restOfHeader: UInt32(mtu)
    ).prepend(to: message)
    IPv4Header(
      source: router, destination: DualStackWire.ipv4A, protocolNumber: .icmp,
      payloadLength: message.count
    ).prepend(to: message)
    return message.withBytes { $0.copyToArray() }
  }

  /// A connects to B's port over IPv4; returns both ends once established.
  static func connected(_ wire: inout DualStackWire) throws -> (TCPConnectionID, TCPConnectionID) {
    let listener = try wire.b.tcp.listen(port: serverPort)
    let client = try wire.a.tcp.connect(
      to: .v4(DualStackWire.ipv4B), port: serverPort, now: wire.now, network: &wire.a.network)
    var server: TCPConnectionID?
    wire.run(until: wire.now + .seconds(10)) { wire in
      if server == nil { server = wire.b.tcp.accept(listener) }
      return server == nil || wire.a.tcp.state(client) != .established
    }
    return (client, try #require(server))
  }

  /// A connection from A with data in flight: A wrote `bytes` and sent them, B has not seen
  /// them yet. Returns A's connection and the first data datagram A sent (IPv4, without the
  /// wire's header).
  static func inFlight(_ wire: inout DualStackWire, bytes: Int = 8_000) throws
    -> (TCPConnectionID, [UInt8])
  {
    let (client, _) = try connected(&wire)
    _ = try wire.a.tcp.write(client, [UInt8](repeating: 0x61, count: bytes).span)
    wire.a.poll(now: wire.now)
    let sent = wire.a.takeSent().map { $0.withBytes { $0.copyToArray() } }
    let data = try #require(sent.first { $0[0] == 4 && $0.count > 2 + 1000 })
    return (client, Array(data[2...]))
  }

  @Test func aFragmentationNeededCutsTheSegmentsOfARunningTransfer() throws {
    var wire = DualStackWire()
    wire.recording = true
    let (client, server) = try Self.connected(&wire)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1460)
    let bytes = 1 << 20
    var sender = StreamTransfer(
      id: client, toSend: bytes, toReceive: 0, sendSide: 1, receiveSide: 2)
    var receiver = StreamTransfer(
      id: server, toSend: 0, toReceive: bytes, sendSide: 2, receiveSide: 1)
    // A quarter of the way in, the path shrinks to 1000 bytes: larger datagrams (DF set) are
    // dropped from now on, and the router reports the last one it dropped.
    var reported = false
    var framesBefore = 0
    wire.run(until: wire.now + .seconds(120)) { wire in
      sender.pump(&wire.a.tcp, now: wire.now)
      receiver.pump(&wire.b.tcp, now: wire.now)
      if !reported && receiver.received >= bytes / 4 {
        reported = true
        wire.pathMTUFromA = 1000
        let last = wire.framesFromA.last { $0.count > 2 + 1000 && $0[0] == 4 }!
        framesBefore = wire.framesFromA.count
        wire.inject(
          toA: Self.fragmentationNeeded(quoting: Array(last[2...]), mtu: 1000), version: 4)
      }
      return sender.failure == nil && receiver.failure == nil && !(sender.closed && receiver.closed)
    }
    #expect(reported)
    #expect(sender.failure == nil && receiver.failure == nil)
    #expect(receiver.received == bytes && sender.closed && receiver.closed)
    #expect(wire.a.network.ipv4.icmpCounters.fragmentationNeededReceived == 1)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 1)
    #expect(wire.a.tcp.counters.pathMTUReportsIgnored == 0)
    // Everything A sent after the report fits the path, and what the path dropped went
    // again without waiting for a retransmission timeout.
    let after = wire.framesFromA[framesBefore...].filter { $0[0] == 4 }
    #expect(!after.isEmpty)
    #expect(after.allSatisfy { $0.count - 2 <= 1000 })
    #expect(wire.a.tcp.counters.retransmissionTimeouts == 0)
  }

  @Test func aReportBelow552IsRaisedTo552() throws {
    var wire = DualStackWire()
    let (client, datagram) = try Self.inFlight(&wire)
    wire.inject(toA: Self.fragmentationNeeded(quoting: datagram, mtu: 300), version: 4)
    // 552 less 20 bytes of IPv4 header and 20 of TCP header.
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 512)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 1)
  }

  @Test func aReportBelowIPv4sMinimumMTUIsDropped() throws {
    var wire = DualStackWire()
    let (client, datagram) = try Self.inFlight(&wire)
    for mtu in [0, 67] {
      wire.inject(toA: Self.fragmentationNeeded(quoting: datagram, mtu: mtu), version: 4)
    }
    #expect(wire.a.network.ipv4.icmpCounters.droppedFragmentationNeededBelowMinimum == 2)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1460)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 0)
  }

  @Test func aSequenceNumberOutsideWhatIsInFlightIsIgnored() throws {
    var wire = DualStackWire()
    let (client, datagram) = try Self.inFlight(&wire)
    // The quoted sequence number (bytes 4-7 of the TCP header, after 20 of IPv4), moved
    // 100,000 bytes back (acknowledged long ago) and 100,000 forward (never sent).
    let sequence = datagram[24..<28].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    for moved in [sequence &- 100_000, sequence &+ 100_000] {
      var forged = datagram
      for index in 0..<4 {
        forged[24 + index] = UInt8(truncatingIfNeeded: moved >> (24 - 8 * index))
      }
      wire.inject(toA: Self.fragmentationNeeded(quoting: forged, mtu: 1000), version: 4)
    }
    #expect(wire.a.tcp.counters.pathMTUReportsIgnored == 2)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 0)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1460)
    // The true one is taken.
    wire.inject(toA: Self.fragmentationNeeded(quoting: datagram, mtu: 1000), version: 4)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 960)
  }

  @Test func aQuoteOfNoConnectionOrOfAnotherHostsDatagramIsIgnored() throws {
    var wire = DualStackWire()
    let (client, datagram) = try Self.inFlight(&wire)
    // Another source port: no connection.
    var otherPort = datagram
    otherPort[20] ^= 0x01
    wire.inject(toA: Self.fragmentationNeeded(quoting: otherPort, mtu: 1000), version: 4)
    #expect(wire.a.tcp.counters.pathMTUReportsIgnored == 1)
    // A datagram B sent (B's address as the quoted source): not ours, dropped by IPv4.
    var othersDatagram = datagram
    othersDatagram.replaceSubrange(12..<16, with: [10, 0, 0, 2])
    wire.inject(toA: Self.fragmentationNeeded(quoting: othersDatagram, mtu: 1000), version: 4)
    // A quote shorter than an IPv4 header and 8 bytes of TCP.
    wire.inject(
      toA: Self.fragmentationNeeded(quoting: datagram, mtu: 1000, quoteLength: 24), version: 4)
    #expect(wire.a.network.ipv4.icmpCounters.droppedUnmatchedErrors == 2)
    #expect(wire.a.network.ipv4.icmpCounters.fragmentationNeededReceived == 3)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 0)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1460)
  }
}
