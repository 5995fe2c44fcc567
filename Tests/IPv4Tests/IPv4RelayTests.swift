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

  @Test func fragmentsToAnotherHostAreReassembledIntoOneRelayedDatagram() {
    var layer = makeLayer()
    layer.relaysOtherDestinations = true
    let datagram: [UInt8] = Array(0..<24)
    func fragment(at offset: Int, _ bytes: ArraySlice<UInt8>, more: Bool) -> [UInt8] {
      let header = IPv4Header(
        source: C.va, destination: Self.remote, protocolNumber: .udp, payloadLength: 0,
        identification: 77, moreFragments: more, fragmentOffset: offset)
      return ipv4Packet(header, payload: Array(bytes))
    }
    guard
      case .consumed = layer.receive(
        fragment(at: 0, datagram[0..<16], more: true).span, linkBroadcast: false, now: .zero)
    else {
      Issue.record("the first fragment waits for the rest")
      return
    }
    let input = layer.receive(
      fragment(at: 16, datagram[16...], more: false).span, linkBroadcast: false, now: .zero)
    guard case .reassembled(let delivery, let buffer) = input else {
      Issue.record("the last fragment completes the datagram")
      return
    }
    #expect(delivery.isRelayed && delivery.isForOtherAddress)
    #expect(delivery.header.destination == Self.remote && delivery.header.payloadLength == 24)
    let payload = buffer.withBytes { Array($0.copyToArray()[delivery.headerLength...]) }
    #expect(payload == datagram)
    #expect(layer.counters.fragmentsReceived == 2 && layer.counters.datagramsReassembled == 1)
    #expect(layer.counters.packetsRelayed == 1)
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
