import NetCore
import Testing

@testable import TCP

/// An active open from a chosen source address and port (RFC 9293 §3.10.1): how a published
/// port's connection into the guest shows the guest its real client.
struct ChosenSourceConnectTests {
  static let client = IPv4Address(10, 99, 0, 5)

  @Test func theSYNGoesFromTheChosenAddressAndPortAndTheAnswerEstablishes() throws {
    var h = Harness()
    h.remotePort = Harness.serverPort
    let id = try h.tcp.connect(
      to: .v4(Harness.remoteAddress), port: Harness.serverPort, from: .v4(Self.client),
      sourcePort: 43210, now: h.now, network: &h.network)
    let sent = h.network.sent
    h.network.sent.removeAll()
    #expect(sent.count == 1)
    #expect(sent.first?.source == .v4(Self.client))
    #expect(sent.first?.sourcePort == 43210)
    #expect(sent.first?.destination == .v4(Harness.remoteAddress))
    #expect(sent.first?.segment.flags == .syn)
    #expect(sent.first?.checksumValid == true)
    let tuple = TCPFourTuple(
      localAddress: .v4(Self.client), localPort: 43210, remoteAddress: .v4(Harness.remoteAddress),
      remotePort: Harness.serverPort)
    #expect(h.tcp.hasConnection(tuple))
    #expect(h.tcp.tuple(id) == tuple)
    // The peer's SYN-ACK to that address completes the handshake.
    h.localPort = 43210
    let iss = sent.first!.segment.sequence
    h.deliver(
      Segment([.syn, .ack], seq: h.irs, ack: iss + 1, options: .with(mss: 1460)),
      to: Self.client)
    #expect(h.tcp.state(id) == .established)
    #expect(h.network.sent.last?.source == .v4(Self.client))
    #expect(h.network.sent.last?.segment.flags == .ack)
  }

  @Test func aTakenPortFallsBackToAnEphemeralOne() throws {
    var h = Harness()
    _ = try h.tcp.connect(
      to: .v4(Harness.remoteAddress), port: 80, from: .v4(Self.client), sourcePort: 43210,
      now: h.now, network: &h.network)
    let second = try h.tcp.connect(
      to: .v4(Harness.remoteAddress), port: 80, from: .v4(Self.client), sourcePort: 43210,
      now: h.now, network: &h.network)
    let port = h.tcp.tuple(second)!.localPort
    #expect(port != 43210)
    #expect(TCPConfiguration().ephemeralPorts.contains(port))
  }

  @Test func noSourcePortPicksAnEphemeralOne() throws {
    var h = Harness()
    let id = try h.tcp.connect(
      to: .v4(Harness.remoteAddress), port: 80, from: .v4(Self.client), sourcePort: nil,
      now: h.now, network: &h.network)
    #expect(TCPConfiguration().ephemeralPorts.contains(h.tcp.tuple(id)!.localPort))
  }

  @Test func anUnusableSourceIsNoRoute() {
    var h = Harness()
    for source in [IPAddress.v4(.any), .v4(IPv4Address(255, 255, 255, 255)), .v6(.loopback)] {
      #expect(throws: TCPError.noRoute) {
        try h.tcp.connect(
          to: .v4(Harness.remoteAddress), port: 80, from: source, sourcePort: 1, now: h.now,
          network: &h.network)
      }
    }
    #expect(h.network.sent.isEmpty)
    #expect(h.tcp.connectionCount == 0)
  }

  @Test func aSegmentForAnotherTupleIsNotTheLayers() {
    let h = Harness()
    #expect(
      !h.tcp.hasConnection(
        TCPFourTuple(
          localAddress: .v4(Self.client), localPort: 1, remoteAddress: .v4(Harness.remoteAddress),
          remotePort: 80)))
  }
}
