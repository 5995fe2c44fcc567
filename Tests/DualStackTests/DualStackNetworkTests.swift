import IPv4
import IPv6
import NetCore
import TCP
import Testing

/// `DualStackNetwork` sends each packet through the layer of its destination's family, and one
/// TCP listener takes connections of both families (RFC 4213 §2: a dual-stack host).
struct DualStackNetworkTests {
  @Test func oneListenerAcceptsBothFamilies() throws {
    var wire = DualStackWire()
    let listener = try wire.b.tcp.listen(port: 80)
    let overIPv4 = try wire.a.tcp.connect(
      to: .v4(DualStackWire.ipv4B), port: 80, now: wire.now, network: &wire.a.network)
    let overIPv6 = try wire.a.tcp.connect(
      to: .v6(DualStackWire.ipv6B), port: 80, now: wire.now, network: &wire.a.network)
    var accepted: [TCPConnectionID] = []
    wire.run(until: wire.now + .seconds(10)) { wire in
      while let id = wire.b.tcp.accept(listener) { accepted.append(id) }
      return accepted.count < 2
    }
    #expect(accepted.count == 2)
    let locals = Set(accepted.compactMap { wire.b.tcp.info($0)?.tuple.localAddress })
    #expect(locals == [.v4(DualStackWire.ipv4B), .v6(DualStackWire.ipv6B)])
    #expect(wire.a.tcp.info(overIPv4)?.tuple.localAddress == .v4(DualStackWire.ipv4A))
    #expect(wire.a.tcp.info(overIPv6)?.tuple.localAddress == .v6(DualStackWire.ipv6A))
    // Each family's MSS: the link's 1500 less its own headers.
    #expect(wire.a.tcp.info(overIPv4)?.sendMaximumSegmentSize == 1460)
    #expect(wire.a.tcp.info(overIPv6)?.sendMaximumSegmentSize == 1440)
  }

  /// A listener bound to one address takes only connections to it.
  @Test func aListenerBoundToAnIPv4AddressRefusesIPv6() throws {
    var wire = DualStackWire()
    let listener = try wire.b.tcp.listen(port: 80, address: .v4(DualStackWire.ipv4B))
    let client = try wire.a.tcp.connect(
      to: .v6(DualStackWire.ipv6B), port: 80, now: wire.now, network: &wire.a.network)
    wire.run(until: wire.now + .seconds(2))
    #expect(wire.a.tcp.error(client) == .connectionRefused)
    #expect(wire.b.tcp.accept(listener) == nil)
  }

  @Test func eachFamilyGoesThroughItsOwnLayer() throws {
    let wire = DualStackWire()
    var network = wire.a.network
    #expect(network.sourceAddress(for: .v4(DualStackWire.ipv4B)) == .v4(DualStackWire.ipv4A))
    #expect(network.sourceAddress(for: .v6(DualStackWire.ipv6B)) == .v6(DualStackWire.ipv6A))
    #expect(network.sourceAddress(for: .v4(IPv4Address(192, 0, 2, 1))) == nil)
    #expect(network.maximumPayloadSize(to: .v4(DualStackWire.ipv4B)) == 1480)
    #expect(network.maximumPayloadSize(to: .v6(DualStackWire.ipv6B)) == 1460)
    #expect(network.headroom == 2 + 40)
    let sentIPv4 = network.ipv4.counters.packetsSent
    let sentIPv6 = network.ipv6.counters.packetsSent
    let packet = PacketBuffer(capacity: 256)
    packet.append(copying: [0, 0, 0, 0, 0, 0, 0, 0].span)
    try network.send(
      packet, protocolNumber: .udp, to: .v6(DualStackWire.ipv6B),
      options: TransportSendOptions(), now: wire.now)
    // (The IPv6 layer may also have solicited B's link-layer address.)
    #expect(network.ipv6.counters.packetsSent > sentIPv6)
    #expect(network.ipv4.counters.packetsSent == sentIPv4)
    // A source of the other family is refused, not sent with a mismatched header.
    #expect(throws: TransportSendError.noSourceAddress) {
      try network.send(
        PacketBuffer(capacity: 256), protocolNumber: .udp, to: .v4(DualStackWire.ipv4B),
        options: TransportSendOptions(source: .v6(DualStackWire.ipv6A)), now: wire.now)
    }
    #expect(throws: TransportSendError.noSourceAddress) {
      try network.send(
        PacketBuffer(capacity: 256), protocolNumber: .udp, to: .v6(DualStackWire.ipv6B),
        options: TransportSendOptions(source: .v4(DualStackWire.ipv4A)), now: wire.now)
    }
  }

  /// Either layer alone, given the other family's destination, has no route to it.
  @Test func aSingleLayerHasNoRouteToTheOtherFamily() throws {
    let wire = DualStackWire()
    var ipv4 = wire.a.network.ipv4
    var ipv6 = wire.a.network.ipv6
    #expect(ipv4.sourceAddress(for: IPAddress.v6(DualStackWire.ipv6B)) == nil)
    #expect(ipv6.sourceAddress(for: IPAddress.v4(DualStackWire.ipv4B)) == nil)
    #expect(throws: TransportSendError.noRoute) {
      try ipv4.send(
        PacketBuffer(capacity: 256), protocolNumber: .udp, to: .v6(DualStackWire.ipv6B),
        options: TransportSendOptions(), now: wire.now)
    }
    #expect(throws: TransportSendError.noRoute) {
      try ipv6.send(
        PacketBuffer(capacity: 256), protocolNumber: .udp, to: .v4(DualStackWire.ipv4B),
        options: TransportSendOptions(), now: wire.now)
    }
  }

  @Test func addressesPrintInTheirFamilysText() {
    #expect("\(IPAddress.v4(IPv4Address(10, 0, 0, 1)))" == "10.0.0.1")
    #expect("\(IPAddress.v6(IPv6Address(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)))" == "2001:db8::1:0:0:1")
    let tuple = TCPFourTuple(
      localAddress: .v6(DualStackWire.ipv6A), localPort: 80,
      remoteAddress: .v6(DualStackWire.ipv6B), remotePort: 40000)
    #expect(tuple.description == "[fd00:1::1]:80-[fd00:1::2]:40000")
  }
}
