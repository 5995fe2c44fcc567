import NetCore
import Testing
import UDP

/// One UDP over IPv6 (RFC 768 over RFC 8200 §8): an echo between two hosts on the wire.
struct UDPOverIPv6Tests {
  @Test func anEchoGoesThereAndBackOverIPv6() throws {
    var wire = DualStackWire()
    let echo = try wire.b.udp.bind(port: 7)
    let client = try wire.a.udp.bind(port: 0)
    let clientPort = try #require(wire.a.udp.endpoint(client)).localPort
    let message = Array("over IPv6".utf8)
    try wire.a.udp.send(
      message.span, from: client, to: .v6(DualStackWire.ipv6B), port: 7,
      through: &wire.a.network, now: wire.now)
    var answered = false
    wire.run(until: wire.now + .seconds(5)) { wire in
      while let datagram = wire.b.udp.receive(from: echo) {
        #expect(datagram.source == .v6(DualStackWire.ipv6A))
        #expect(datagram.sourcePort == clientPort)
        #expect(datagram.destination == .v6(DualStackWire.ipv6B))
        try? wire.b.udp.send(
          datagram.payload.span, from: echo, to: datagram.source, port: datagram.sourcePort,
          through: &wire.b.network, now: wire.now)
      }
      if let answer = wire.a.udp.receive(from: client) {
        #expect(answer.payload == message)
        #expect(answer.source == .v6(DualStackWire.ipv6B) && answer.sourcePort == 7)
        answered = true
      }
      return !answered
    }
    #expect(answered)
    #expect(wire.a.udp.counters.datagramsSent == 1 && wire.b.udp.counters.datagramsSent == 1)
  }

  /// A datagram to a port nobody bound is refused (the caller answers ICMPv6 port
  /// unreachable), and one from the wrong family's endpoint address does not match.
  @Test func aDatagramToAnUnboundPortIsRefused() throws {
    var wire = DualStackWire()
    _ = try wire.b.udp.bind(address: .v4(DualStackWire.ipv4B), port: 9)
    let client = try wire.a.udp.bind(port: 0)
    try wire.a.udp.send(
      [1, 2, 3].span, from: client, to: .v6(DualStackWire.ipv6B), port: 9,
      through: &wire.a.network, now: wire.now)
    wire.run(until: wire.now + .seconds(2))
    #expect(wire.b.portUnreachable == 1)
    #expect(wire.b.udp.counters.droppedNoPort == 1)
  }
}
