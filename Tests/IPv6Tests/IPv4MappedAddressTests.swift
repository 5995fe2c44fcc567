import IPv6
import NetCore
import Testing

/// IPv4-mapped addresses (::ffff:0:0/96) name IPv4 hosts inside an IPv6 socket API and must
/// never appear on the wire (RFC 4038 §4.2): a packet that carries one as its source or
/// destination is dropped and counted, none is sent to one, and no interface takes one as its
/// address (RFC 4942 §2.2: they would let a peer slip IPv4 filters).
struct IPv4MappedAddressTests {
  static let mapped = IPv6Address(0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0002)  // ::ffff:10.0.0.2

  @Test func aPacketFromOrToAMappedAddressIsDroppedAndCounted() {
    var layer = makeLayer(
      addresses: [IPv6CIDR(address: LinuxCaptures.globalB, prefixLength: 64)])
    let echo = ICMPv6Header(type: .echoRequest, code: 0, restOfHeader: 0x0001_0001)
    let fromMapped = icmpv6Packet(
      echo, body: [1, 2, 3], source: Self.mapped, destination: LinuxCaptures.globalB)
    let toMapped = icmpv6Packet(
      echo, body: [1, 2, 3], source: LinuxCaptures.globalA, destination: Self.mapped)
    #expect(layer.receive(fromMapped, at: at(5)).isConsumed)
    #expect(layer.receive(toMapped, at: at(5)).isConsumed)
    #expect(layer.counters.droppedBadAddress == 2)
    #expect(layer.icmpCounters.echoRequestsReceived == 0)
    #expect(layer.takeSent().isEmpty)
  }

  /// Even with a default router, which would take any off-link destination.
  @Test func nothingIsSentToAMappedAddress() {
    var layer = makeLayer(hardwareAddress: LinuxCaptures.macA)
    _ = layer.receive(LinuxCaptures.routerAdvertisement, multicast: true, at: at(5))
    #expect(!layer.routers.routers.isEmpty)
    var now = at(5)
    while now < at(8) {
      now += .milliseconds(100)
      layer.poll(now: now)
    }
    _ = layer.takeSent()
    let payload = PacketBuffer(copying: [UInt8](repeating: 0, count: 8).span, headroom: 64)
    #expect(throws: IPv6SendError.noRoute) {
      try layer.send(payload, nextHeader: .udp, to: Self.mapped, options: .init(), now: now)
    }
    #expect(layer.counters.sendIPv4Mapped == 1)
    #expect(layer.takeSent().isEmpty)
  }

  @Test func noInterfaceTakesAMappedAddress() {
    var layer = makeLayer()
    #expect(throws: IPv6ConfigurationError.notUnicast) {
      try layer.addAddress(IPv6CIDR(address: Self.mapped, prefixLength: 64), now: at(1))
    }
    #expect(!layer.addresses.contains { $0.address == Self.mapped })
  }
}
