import IPv4
import NetCore
import Testing

/// What the layer does for a relay: datagrams to other hosts handed up marked
/// `isRelayed` (ICMP included) once asked, whole datagrams only; additional addresses taken as
/// ours (a relay's DNS address), echo answered from them.
struct IPv4RelayTests {
  typealias C = LinuxCaptures
  static let remote = IPv4Address(192, 0, 2, 9)

  func packet(
    to destination: IPv4Address, _ protocolNumber: IPProtocolNumber, fragment: Bool = false
  )
    -> [UInt8]
  {
    var header = IPv4Header(
      source: C.va, destination: destination, protocolNumber: protocolNumber, payloadLength: 0)
    header.moreFragments = fragment
    let payload: [UInt8] = protocolNumber == .icmp ? [8, 0, 0xF7, 0xFF, 0, 0, 0, 0] : [1, 2, 3, 4]
    return ipv4Packet(header, payload: payload)
  }

  @Test func otherHostsAreDroppedUntilTheLayerRelays() {
    var layer = makeLayer()
    guard
      case .consumed = layer.receive(
        packet(to: Self.remote, .udp).span, linkBroadcast: false, now: .zero)
    else {
      Issue.record("not relaying: dropped")
      return
    }
    #expect(layer.counters.droppedNotForUs == 1)
    layer.relaysOtherDestinations = true
    for protocolNumber in [IPProtocolNumber.udp, .icmp, .tcp] {
      let input = layer.receive(
        packet(to: Self.remote, protocolNumber).span, linkBroadcast: false, now: .zero)
      guard case .local(let delivery) = input else {
        Issue.record("relayed \(protocolNumber.rawValue) is delivered")
        return
      }
      #expect(delivery.isRelayed && delivery.header.destination == Self.remote)
    }
    #expect(layer.counters.packetsRelayed == 3)
    #expect(layer.icmpCounters.echoRequestsReceived == 0)
    #expect(layer.takeSent().isEmpty)
  }

  @Test func relayedFragmentsAreDroppedAndCounted() {
    var layer = makeLayer()
    layer.relaysOtherDestinations = true
    guard
      case .consumed = layer.receive(
        packet(to: Self.remote, .icmp, fragment: true).span, linkBroadcast: false, now: .zero)
    else {
      Issue.record("a relayed fragment is dropped")
      return
    }
    #expect(layer.counters.droppedRelayedFragments == 1)
    #expect(layer.counters.fragmentsReceived == 0)
  }

  @Test func ourOwnAndBroadcastAddressesAreNeverRelayed() {
    var layer = makeLayer()
    layer.relaysOtherDestinations = true
    for destination in [C.vb, IPv4Address(10, 77, 0, 255), .broadcast] {
      if case .local(let delivery) = layer.receive(
        packet(to: destination, .udp).span, linkBroadcast: false, now: .zero)
      {
        #expect(!delivery.isRelayed)
      } else {
        Issue.record("\(destination) is delivered as ours")
      }
    }
    #expect(layer.counters.packetsRelayed == 0)
  }

  @Test func anAdditionalAddressIsOursAndAnswersEchoFromItself() throws {
    var layer = makeLayer()
    let dns = IPv4Address(10, 77, 0, 3)
    layer.additionalAddresses = [dns]
    guard
      case .local(let delivery) = layer.receive(
        packet(to: dns, .udp).span, linkBroadcast: false, now: .zero)
    else {
      Issue.record("a datagram to the additional address is delivered")
      return
    }
    #expect(!delivery.isRelayed && !delivery.isForOtherAddress)
    _ = layer.receive(packet(to: dns, .icmp).span, linkBroadcast: false, now: .zero)
    let sent = layer.takeSent()
    let reply = try #require(sent.first)
    let header = try IPv4Packet(checking: reply.bytes.span).header
    #expect(header.source == dns && header.destination == C.va)
    #expect(layer.icmpCounters.echoRepliesSent == 1)
  }

  @Test func aRelayedEchoReplyComesFromTheHostPinged() throws {
    var layer = makeLayer()
    try layer.sendRelayedEchoReply(
      from: Self.remote, to: C.va, identifier: 7, sequence: 9, payload: [5, 6].span, now: .zero)
    let reply = try #require(layer.takeSent().first)
    let header = try IPv4Packet(checking: reply.bytes.span).header
    #expect(header.source == Self.remote && header.destination == C.va)
    // An echo reply (type 0) whose checksum verifies, the identifier, sequence and data kept.
    let message = Array(reply.bytes[20...])
    #expect((try? ICMPv4Packet(checking: message.span).type) == .echoReply)
    #expect(message[4...] == [0, 7, 0, 9, 5, 6])
    #expect(layer.icmpCounters.echoRepliesRelayed == 1)
  }
}
