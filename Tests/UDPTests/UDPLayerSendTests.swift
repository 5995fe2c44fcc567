import IPv4
import NetCore
import Testing
import UDP

/// Sending datagrams through the network layer.
struct UDPLayerSendTests {
  typealias C = LinuxCaptures

  @Test func sendsAChecksummedDatagram() throws {
    var udp = UDPLayer()
    var network = FakeNetwork()
    let id = try udp.bind(port: 7777)
    let payload = Array("reply".utf8)
    try udp.send(payload.span, from: id, to: .v4(C.va), port: 40000, through: &network, now: .zero)
    #expect(network.sent.count == 1)
    let sent = try #require(network.sent.first)
    #expect(sent.protocolNumber == .udp)
    #expect(sent.destination == .v4(C.va))
    #expect(sent.source == .v4(C.vb))
    let datagram = try UDPDatagram(checking: sent.bytes.span)
    #expect(datagram.sourcePort == 7777 && datagram.destinationPort == 40000)
    #expect(datagram.payload.copyToArray() == payload)
    #expect(datagram.checksumIsValid(source: .v4(C.vb), destination: .v4(C.va)) == true)
    #expect(udp.counters.datagramsSent == 1)
  }

  /// Through a real IPv4 layer, nc's datagram comes out as Linux sent it, except for the DF
  /// flag Linux sets on UDP (path MTU discovery) and this stack does not.
  @Test func reproducesTheCapturedDatagramThroughIPv4() throws {
    var udp = UDPLayer()
    var ipv4 = makeIPv4(C.va, identificationSeed: 0x788A - 1)
    let id = try udp.bind(port: 40000)
    let payload = Array("hello netstack\n".utf8)
    try udp.send(payload.span, from: id, to: .v4(C.vb), port: 7777, through: &ipv4, now: .zero)
    var expected = C.hello
    expected[6] = 0
    fixHeaderChecksum(&expected)
    #expect(ipv4.link.sent == [expected])
  }

  @Test func usesTheEndpointsAddressAsSource() throws {
    var udp = UDPLayer()
    var network = FakeNetwork()
    let id = try udp.bind(address: .v4(IPv4Address(10, 77, 0, 42)), port: 53)
    let payload: [UInt8] = [1, 2, 3]
    try udp.send(payload.span, from: id, to: .v4(C.va), port: 53, through: &network, now: .zero)
    let sent = try #require(network.sent.first)
    #expect(sent.source == .v4(IPv4Address(10, 77, 0, 42)))
    let datagram = try UDPDatagram(checking: sent.bytes.span)
    #expect(
      datagram.checksumIsValid(source: .v4(IPv4Address(10, 77, 0, 42)), destination: .v4(C.va))
        == true)
  }

  /// DHCP: a broadcast before the stack has an address goes out from 0.0.0.0.
  @Test func broadcastWithoutAnAddress() throws {
    var udp = UDPLayer()
    var network = FakeNetwork()
    network.address = nil
    let id = try udp.bind(port: 68)
    let payload = [UInt8](repeating: 0, count: 300)
    try udp.send(
      payload.span, from: id, to: .v4(.broadcast), port: 67, through: &network, now: .zero)
    let sent = try #require(network.sent.first)
    #expect(sent.source == .v4(.any))
    let datagram = try UDPDatagram(checking: sent.bytes.span)
    #expect(datagram.checksumIsValid(source: .v4(.any), destination: .v4(.broadcast)) == true)
  }

  @Test func errors() throws {
    var udp = UDPLayer()
    var network = FakeNetwork()
    let id = try udp.bind(port: 5000)
    let small: [UInt8] = [1]
    #expect(throws: UDPError.noRoute) {
      try udp.send(
        small.span, from: id, to: .v4(IPv4Address(192, 0, 2, 1)), port: 9, through: &network,
        now: .zero)
    }
    #expect(udp.counters.sendErrors == 1)
    let huge = [UInt8](repeating: 0, count: UDPHeader.maximumPayload + 1)
    #expect(throws: UDPError.messageTooLong) {
      try udp.send(huge.span, from: id, to: .v4(C.va), port: 9, through: &network, now: .zero)
    }
    network.failure = .tooLarge
    #expect(throws: UDPError.messageTooLong) {
      try udp.send(small.span, from: id, to: .v4(C.va), port: 9, through: &network, now: .zero)
    }
    network.failure = .noRoute
    #expect(throws: UDPError.noRoute) {
      try udp.send(small.span, from: id, to: .v4(C.va), port: 9, through: &network, now: .zero)
    }
    #expect(udp.counters.sendErrors == 3)
    #expect(udp.counters.datagramsSent == 0)
    #expect(network.sent.isEmpty)
  }

  /// The largest datagram goes out whole (the IPv4 layer fragments it).
  @Test func largestPayloadIsSent() throws {
    var udp = UDPLayer()
    var ipv4 = makeIPv4()
    let id = try udp.bind(port: 5000)
    let payload = [UInt8](repeating: 0x5A, count: UDPHeader.maximumPayload)
    try udp.send(payload.span, from: id, to: .v4(C.va), port: 9, through: &ipv4, now: .zero)
    #expect(ipv4.link.sent.count == 45)  // 65515 bytes in 1480-byte fragments
    #expect(ipv4.counters.fragmentsSent == 45)
  }
}
