import IPv6
import NetCore
import Testing
import UDP

@testable import NetStack

/// UDP endpoints that send from a chosen address and port (`DirectStack+ChosenSourceUDP.swift`):
/// a published port's flow into the guest, from the client's address. What the guest sees,
/// that its answer to that address comes to the endpoint rather than to the relay, that the
/// four numbers are one endpoint's only, and that a closed endpoint's answers are relayed as
/// any other datagram. Over IPv6, with RelayIPv6Tests's stack (fd00:77::2, the guest its peer).
struct ChosenSourceUDPTests {
  typealias Fixture = DirectStackIPv6Tests
  let relay = RelayIPv6Tests()
  /// The published port's client, outside the guests' prefix.
  static let client = IPv6Address(0xfd01, 0, 0, 0, 0, 0, 0, 2)

  /// The guest's datagram from port 7007 (or `sourcePort`) to the client's port 40001 (or
  /// `destination`:`port`).
  func answer(
    _ payload: [UInt8], sourcePort: UInt16 = 7007, to destination: IPv6Address = client,
    port: UInt16 = 40001
  ) -> [UInt8] {
    let datagram = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: sourcePort, destinationPort: port).prepend(
      to: datagram, source: .v6(Fixture.peer), destination: .v6(destination))
    return relay.packet(datagram, .udp, to: destination)
  }

  @Test func theGuestSeesTheClientAndItsAnswerComesBack() throws {
    var (stack, device, now) = try relay.makeStack()
    let id = try stack.bindUDP(
      from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    try stack.sendUDPFromChosenSource([7, 8, 9].span, from: id, now: now)
    let sent = relay.sent(&stack, &device, &now)
    #expect(sent.count == 1)
    if let packet = sent.first {
      #expect(relay.source(packet) == Self.client && relay.destination(packet) == Fixture.peer)
      #expect(UInt16(packet[40]) << 8 | UInt16(packet[41]) == 40001, "the client's port")
      #expect(UInt16(packet[42]) << 8 | UInt16(packet[43]) == 7007)
    }
    #expect(relay.receive([answer([1, 2])], &stack, &device, &now).isEmpty, "nothing refused")
    #expect(stack.takeRelayedUDPDatagrams().isEmpty, "not taken for a flow of the relay")
    #expect(stack.udp.receive(from: id)?.payload == [1, 2])
  }

  @Test func theFourNumbersAreOneEndpointsOnly() throws {
    var (stack, _, _) = try relay.makeStack()
    _ = try stack.bindUDP(
      from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    #expect(throws: UDPError.addressInUse) {
      try stack.bindUDP(
        from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    }
    #expect(stack.chosenSourceUDP.count == 1, "the refused one left nothing behind")
    #expect(throws: UDPError.noRoute) {
      try stack.bindUDP(
        from: .v4(IPv4Address(10, 99, 0, 2)), sourcePort: 1, peer: .v6(Fixture.peer),
        peerPort: 7007)
    }
  }

  @Test func aClosedEndpointsAnswersGoToTheRelay() throws {
    var (stack, device, now) = try relay.makeStack()
    let id = try stack.bindUDP(
      from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    stack.closeUDP(id)
    #expect(stack.chosenSourceUDP.count == 0)
    _ = relay.receive([answer([3])], &stack, &device, &now)
    #expect(stack.takeRelayedUDPDatagrams().count == 1)
  }

  /// Only the guest's answers to the client's address and port are the endpoint's: a datagram
  /// to its own (ephemeral) port at the stack's address is dropped, counted and answered as a
  /// closed port is (port unreachable), and one from another port of the guest is the relay's.
  @Test func onlyItsFlowsAnswersReachIt() throws {
    var (stack, device, now) = try relay.makeStack()
    let id = try stack.bindUDP(
      from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    let ownPort = try #require(stack.udp.endpoint(id)).localPort
    let toOurAddress = answer([4], to: Fixture.ours, port: ownPort)
    let answers = relay.receive([toOurAddress], &stack, &device, &now)
    #expect(answers.count == 1, "port unreachable, as for a closed port")
    #expect(answers.first.map { [$0[6], $0[40], $0[41]] } == [58, 1, 4], "ICMPv6 type 1 code 4")
    #expect(stack.udp.counters.droppedOutsideFlow == 1)
    #expect(stack.udp.receive(from: id) == nil)
    _ = relay.receive([answer([5], sourcePort: 7008)], &stack, &device, &now)
    #expect(stack.udp.receive(from: id) == nil)
    #expect(stack.takeRelayedUDPDatagrams().count == 1, "another flow of the guest's")
  }

  /// Its datagrams count as `udp.datagrams_sent` as any other endpoint's.
  @Test func itsSendsAreCounted() throws {
    var (stack, device, now) = try relay.makeStack()
    let id = try stack.bindUDP(
      from: .v6(Self.client), sourcePort: 40001, peer: .v6(Fixture.peer), peerPort: 7007)
    let before = stack.udp.counters.datagramsSent
    try stack.sendUDPFromChosenSource([7].span, from: id, now: now)
    try stack.sendUDPFromChosenSource([8].span, from: id, now: now)
    #expect(relay.sent(&stack, &device, &now).count == 2)
    #expect(stack.udp.counters.datagramsSent == before + 2)
  }
}
