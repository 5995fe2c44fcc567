import IPv6
import NetCore
import TCP
import Testing

/// A packet too big reaches TCP only after the checks IPv4's fragmentation needed gets (RFC
/// 5927 §4.1, as Linux's `tcp_v6_err`): the quoted segment must belong to a connection and
/// carry a sequence number it has in flight; else TCP counts it and leaves the segment size
/// alone, and the IPv6 layer does not record the path MTU either (it would fragment the
/// connection's packets to it, and start later connections small).
struct PacketTooBigCheckTests {
  /// A connection from A over IPv6 with data in flight; returns it and the first data packet
  /// A sent (without the wire's header).
  static func inFlight(_ wire: inout DualStackWire) throws -> (TCPConnectionID, [UInt8]) {
    let (client, _) = try TCPOverIPv6Tests.connected(&wire)
    _ = try wire.a.tcp.write(client, [UInt8](repeating: 0x61, count: 8_000).span)
    wire.a.poll(now: wire.now)
    let sent = wire.a.takeSent().map { $0.withBytes { $0.copyToArray() } }
    let data = try #require(sent.first { $0[0] == 6 && $0.count > 2 + 1300 })
    return (client, Array(data[2...]))
  }

  @Test func aPacketTooBigQuotingASequenceNumberNotInFlightIsIgnored() throws {
    var wire = DualStackWire()
    let (client, packet) = try Self.inFlight(&wire)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1440)
    for delta in [UInt32(100_000), 0 &- 100_000] {
      let forged = DestinationUnreachableForTCPTests.movingSequence(
        of: packet, by: delta, version: 6)
      wire.inject(toA: PathMTUTests.packetTooBig(quoting: forged, mtu: 1280), version: 6)
    }
    #expect(wire.a.tcp.counters.pathMTUReportsIgnored == 2)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 0)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1440)
    #expect(wire.a.network.ipv6.pathMTU(to: DualStackWire.ipv6B) == 1500)
    // The true one is taken.
    wire.inject(toA: PathMTUTests.packetTooBig(quoting: packet, mtu: 1280), version: 6)
    #expect(wire.a.network.ipv6.pathMTU(to: DualStackWire.ipv6B) == 1280)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 1)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1220)
  }

  @Test func aPacketTooBigQuotingNoConnectionOfOursIsIgnored() throws {
    var wire = DualStackWire()
    let (client, packet) = try Self.inFlight(&wire)
    var otherPort = packet
    otherPort[40] ^= 0x01
    wire.inject(toA: PathMTUTests.packetTooBig(quoting: otherPort, mtu: 1280), version: 6)
    #expect(wire.a.tcp.counters.pathMTUReportsIgnored == 1)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 0)
    #expect(wire.a.tcp.info(client)?.sendMaximumSegmentSize == 1440)
    #expect(wire.a.network.ipv6.pathMTU(to: DualStackWire.ipv6B) == 1500)
  }
}
