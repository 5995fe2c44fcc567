import IPv6
import NetCore
import TCP
import Testing

/// A packet too big in the middle of a transfer (RFC 8201 §5.2): the IPv6 layer lowers the
/// path MTU, TCP cuts its segments to it and resends at once what the path dropped.
struct PathMTUTests {
  static let router = IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 0xfe)

  /// The packet too big a router on the path sends A about `quoted` (a packet A sent),
  /// reporting `mtu`: as much of the packet as fits 1280 bytes (RFC 4443 §3.2).
  static func packetTooBig(quoting quoted: [UInt8], mtu: Int) -> [UInt8] {
    let body = Array(quoted.prefix(IPv6Header.minimumMTU - IPv6Header.length - 8))
    let message = PacketBuffer(copying: body.span, headroom: 64)
    ICMPv6Header(type: .packetTooBig, code: 0, restOfHeader: UInt32(mtu))
      .prepend(to: message, source: router, destination: DualStackWire.ipv6A)
    IPv6Header(
      source: router, destination: DualStackWire.ipv6A, nextHeader: .icmpv6,
      payloadLength: message.count, hopLimit: 64
    ).prepend(to: message)
    return message.withBytes { $0.copyToArray() }
  }

  @Test func aPacketTooBigCutsTheSegmentsOfARunningTransfer() throws {
    var wire = DualStackWire()
    wire.recording = true
    let (client, server) = try TCPOverIPv6Tests.connected(&wire)
    let bytes = 1 << 20
    var sender = StreamTransfer(
      id: client, toSend: bytes, toReceive: 0, sendSide: 1, receiveSide: 2)
    var receiver = StreamTransfer(
      id: server, toSend: 0, toReceive: bytes, sendSide: 2, receiveSide: 1)
    // A quarter of the way in, the path shrinks to 1280: full-size segments are dropped from
    // now on, and the router reports the first one it dropped.
    var reported = false
    var framesBefore = 0
    wire.run(until: wire.now + .seconds(120)) { wire in
      sender.pump(&wire.a.tcp, now: wire.now)
      receiver.pump(&wire.b.tcp, now: wire.now)
      if !reported && receiver.received >= bytes / 4 {
        reported = true
        wire.pathMTUFromA = IPv6Header.minimumMTU
        let last = wire.framesFromA.last { $0.count > 2 + 1280 && $0[0] == 6 }!
        framesBefore = wire.framesFromA.count
        wire.inject(toA: Self.packetTooBig(quoting: Array(last[2...]), mtu: 1280), version: 6)
      }
      return sender.failure == nil && receiver.failure == nil && !(sender.closed && receiver.closed)
    }
    #expect(reported)
    #expect(sender.failure == nil && receiver.failure == nil)
    #expect(receiver.received == bytes && sender.closed && receiver.closed)
    #expect(wire.a.network.ipv6.pathMTU(to: DualStackWire.ipv6B) == 1280)
    #expect(wire.a.tcp.counters.pathMTUDecreases == 1)
    // Everything A sent after the report fits the path.
    let after = wire.framesFromA[framesBefore...].filter { $0[0] == 6 }
    #expect(!after.isEmpty)
    #expect(after.allSatisfy { $0.count - 2 <= 1280 })
    // What the path dropped went again without waiting for a retransmission timeout.
    #expect(wire.a.tcp.counters.retransmissionTimeouts == 0)
  }
}
