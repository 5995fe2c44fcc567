import IPv6
import NetCore
import TCP
import Testing

/// SYN cookies over IPv6 (RFC 4987 §3.6): the cookie's MSS table has IPv6's default, 1220
/// (the 1280 minimum MTU less 60 bytes of headers), so a peer behind a 1280-byte path that
/// completes a cookie handshake gets segments of 1220 bytes, not IPv4's 536.
struct SYNCookieOverIPv6Tests {
  /// A UDP datagram A sent to B (an IPv6 header and a UDP header with 12 bytes), as a router
  /// quotes it: the IPv6 layer records a packet too big about it at once (one about a TCP
  /// segment waits for TCP to find the segment in flight).
  static func packetFromA() -> [UInt8] {
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + 64)
    packet.append(copying: [UInt8](repeating: 0, count: 20).span)
    IPv6Header(
      source: DualStackWire.ipv6A, destination: DualStackWire.ipv6B, nextHeader: .udp,
      payloadLength: 20, hopLimit: 64
    ).prepend(to: packet)
    return packet.withBytes { $0.copyToArray() }
  }

  @Test func aCookieHandshakeOverIPv6KeepsTheMinimumMTUsSegmentSize() throws {
    var configuration = TCPConfiguration()
    configuration.synBacklog = 0  // the SYN backlog is always full: every SYN gets a cookie
    var wire = DualStackWire(tcp: configuration)
    wire.recording = true
    // A's path to B carries 1280-byte packets: A's SYN offers an MSS of 1220.
    wire.inject(toA: PathMTUTests.packetTooBig(quoting: Self.packetFromA(), mtu: 1280), version: 6)
    #expect(wire.a.network.ipv6.pathMTU(to: DualStackWire.ipv6B) == 1280)

    let (client, server) = try TCPOverIPv6Tests.connected(&wire)
    #expect(wire.b.tcp.counters.synCookiesSent == 1)
    #expect(wire.b.tcp.counters.synCookiesAccepted == 1)
    #expect(wire.b.tcp.counters.synCookiesRejected == 0)
    let serverInfo = try #require(wire.b.tcp.info(server))
    #expect(serverInfo.tuple.remoteAddress == .v6(DualStackWire.ipv6A))
    #expect(serverInfo.sendMaximumSegmentSize == 1220)

    // B sends 256 KiB in segments that fill, and fit, the 1280-byte path.
    let bytes = 1 << 18
    var sender = StreamTransfer(
      id: server, toSend: bytes, toReceive: 0, sendSide: 2, receiveSide: 1)
    var receiver = StreamTransfer(
      id: client, toSend: 0, toReceive: bytes, sendSide: 1, receiveSide: 2)
    let framesBefore = wire.framesFromB.count
    wire.run(until: wire.now + .seconds(60)) { wire in
      sender.pump(&wire.b.tcp, now: wire.now)
      receiver.pump(&wire.a.tcp, now: wire.now)
      return sender.failure == nil && receiver.failure == nil && !(sender.closed && receiver.closed)
    }
    #expect(sender.failure == nil && receiver.failure == nil)
    #expect(receiver.received == bytes)
    let packetSizes = wire.framesFromB[framesBefore...].filter { $0[0] == 6 }.map { $0.count - 2 }
    #expect(packetSizes.max() == 1280)
  }
}
