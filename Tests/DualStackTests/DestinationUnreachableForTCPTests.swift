import IPv4
import IPv6
import NetCore
import TCP
import Testing

/// ICMP and ICMPv6 destination unreachable about TCP segments of ours (RFC 1122 §4.2.3.9,
/// RFC 5461 §4), over both families: a port (or IPv4 protocol) unreachable quoting the SYN
/// of a connection in SYN-SENT refuses it at once; other codes, and any error about an
/// established connection, are soft: recorded, reported if the connection times out, never
/// aborting it. Quotes that name no connection or a sequence number not in flight are
/// ignored and counted (RFC 5927 §4.1).
struct DestinationUnreachableForTCPTests {
  static let router4 = IPv4Address(10, 0, 0, 254)
  static let router6 = IPv6Address(0xfd00, 1, 0, 0, 0, 0, 0, 0xfe)
  static let port: UInt16 = 7

  /// A destination unreachable with `code` that host B (or a router) sends A about `quoted`,
  /// a packet A sent of IP `version`: the IPv4 header and 8 bytes (RFC 792) or as much as fits
  /// 1280 bytes (RFC 4443 §3.1).
  static func unreachable(quoting quoted: [UInt8], code: UInt8, version: UInt8) -> [UInt8] {
    if version == 4 {
      let message = PacketBuffer(copying: Array(quoted.prefix(28)).span, headroom: 64)
      ICMPv4Header(type: .destinationUnreachable, code: code).prepend(to: message)
      IPv4Header(
        source: router4, destination: DualStackWire.ipv4A, protocolNumber: .icmp,
        payloadLength: message.count
      ).prepend(to: message)
      return message.withBytes { $0.copyToArray() }
    }
    let body = Array(quoted.prefix(IPv6Header.minimumMTU - IPv6Header.length - 8))
    let message = PacketBuffer(copying: body.span, headroom: 64)
    ICMPv6Header(type: .destinationUnreachable, code: code)
      .prepend(to: message, source: router6, destination: DualStackWire.ipv6A)
    IPv6Header(
      source: router6, destination: DualStackWire.ipv6A, nextHeader: .icmpv6,
      payloadLength: message.count, hopLimit: 64
    ).prepend(to: message)
    return message.withBytes { $0.copyToArray() }
  }

  /// Where the TCP header starts in a packet of IP `version` without options or extensions.
  static func tcpOffset(_ version: UInt8) -> Int { version == 4 ? 20 : 40 }

  /// A connects to B's port 7 (where nothing listens) over IP `version`; returns A's
  /// connection and its SYN as it went on the wire (without the wire's header). B has not
  /// seen the SYN.
  static func connecting(_ wire: inout DualStackWire, version: UInt8) throws
    -> (TCPConnectionID, [UInt8])
  {
    let destination: IPAddress =
      version == 4 ? .v4(DualStackWire.ipv4B) : .v6(DualStackWire.ipv6B)
    if version == 6 {
      // A resolves B's link-layer address first (an echo does it), so that the SYN goes at
      // once rather than after neighbour discovery.
      try wire.a.network.ipv6.sendEchoRequest(
        to: DualStackWire.ipv6B, identifier: 1, sequence: 1, payload: [UInt8]().span,
        now: wire.now)
      wire.run(until: wire.now + .seconds(1))
      #expect(wire.a.network.ipv6.icmpCounters.echoRepliesReceived == 1)
    }
    let client = try wire.a.tcp.connect(
      to: destination, port: port, now: wire.now, network: &wire.a.network)
    wire.a.poll(now: wire.now)
    let sent = wire.a.takeSent().map { $0.withBytes { $0.copyToArray() } }
    let protocolField = version == 4 ? 2 + 9 : 2 + 6
    let syn = try #require(sent.first { $0[0] == version && $0[protocolField] == 6 })
    return (client, Array(syn[2...]))
  }

  /// `packet` with the quoted TCP sequence number moved by `delta`.
  static func movingSequence(of packet: [UInt8], by delta: UInt32, version: UInt8) -> [UInt8] {
    let at = tcpOffset(version) + 4
    let sequence = packet[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } &+ delta
    var moved = packet
    for index in 0..<4 {
      moved[at + index] = UInt8(truncatingIfNeeded: sequence >> (24 - 8 * index))
    }
    return moved
  }

  static let portUnreachable: [UInt8: UInt8] = [
    4: ICMPv4UnreachableCode.port.rawValue, 6: ICMPv6UnreachableCode.portUnreachable.rawValue,
  ]

  @Test(arguments: [UInt8(4), 6])
  func aPortUnreachableAboutOurSYNRefusesTheConnectionAtOnce(version: UInt8) throws {
    var wire = DualStackWire()
    let (client, syn) = try Self.connecting(&wire, version: version)
    wire.inject(
      toA: Self.unreachable(quoting: syn, code: Self.portUnreachable[version]!, version: version),
      version: version)
    #expect(wire.a.tcp.state(client) == .closed)
    #expect(wire.a.tcp.error(client) == .connectionRefused)
    #expect(wire.a.tcp.counters.connectionsRefusedByICMP == 1)
    #expect(wire.a.tcp.counters.icmpUnreachablesIgnored == 0)
  }

  @Test func anIPv4ProtocolUnreachableAboutOurSYNRefusesTheConnection() throws {
    var wire = DualStackWire()
    let (client, syn) = try Self.connecting(&wire, version: 4)
    let code = ICMPv4UnreachableCode.protocolUnreachable.rawValue
    wire.inject(toA: Self.unreachable(quoting: syn, code: code, version: 4), version: 4)
    #expect(wire.a.tcp.error(client) == .connectionRefused)
  }

  @Test(arguments: [UInt8(4), 6])
  func aPortUnreachableQuotingAnotherSequenceNumberOrPortIsIgnored(version: UInt8) throws {
    var wire = DualStackWire()
    let (client, syn) = try Self.connecting(&wire, version: version)
    let code = Self.portUnreachable[version]!
    // A sequence number A never sent, one before the SYN, and another source port.
    var otherPort = syn
    otherPort[Self.tcpOffset(version)] ^= 0x01
    for forged in [
      Self.movingSequence(of: syn, by: 1000, version: version),
      Self.movingSequence(of: syn, by: UInt32.max, version: version), otherPort,
    ] {
      wire.inject(
        toA: Self.unreachable(quoting: forged, code: code, version: version), version: version)
    }
    #expect(wire.a.tcp.state(client) == .synSent)
    #expect(wire.a.tcp.counters.icmpUnreachablesIgnored == 3)
    #expect(wire.a.tcp.counters.connectionsRefusedByICMP == 0)
  }

  @Test(arguments: [UInt8(4), 6])
  func aSoftErrorAboutOurSYNIsReportedWhenTheConnectionTimesOut(version: UInt8) throws {
    var wire = DualStackWire()
    let (client, syn) = try Self.connecting(&wire, version: version)
    // Host unreachable (IPv4 code 1), address unreachable (ICMPv6 code 3): soft.
    let code: UInt8 = version == 4 ? 1 : ICMPv6UnreachableCode.addressUnreachable.rawValue
    wire.inject(toA: Self.unreachable(quoting: syn, code: code, version: version), version: version)
    #expect(wire.a.tcp.state(client) == .synSent)
    #expect(wire.a.tcp.counters.icmpSoftErrors == 1)
    // Nothing A sends arrives any more: the SYN retransmissions run out.
    wire.pathMTUFromA = 0
    wire.run(until: wire.now + .seconds(600)) { wire in wire.a.tcp.state(client) != .closed }
    #expect(wire.a.tcp.state(client) == .closed)
    #expect(wire.a.tcp.error(client) == .noRoute)
  }

  @Test(arguments: [UInt8(4), 6])
  func aPortUnreachableAboutAnEstablishedConnectionIsSoft(version: UInt8) throws {
    var wire = DualStackWire()
    let listener = try wire.b.tcp.listen(port: 80)
    let destination: IPAddress =
      version == 4 ? .v4(DualStackWire.ipv4B) : .v6(DualStackWire.ipv6B)
    let client = try wire.a.tcp.connect(
      to: destination, port: 80, now: wire.now, network: &wire.a.network)
    var server: TCPConnectionID?
    wire.run(until: wire.now + .seconds(10)) { wire in
      if server == nil { server = wire.b.tcp.accept(listener) }
      return server == nil || wire.a.tcp.state(client) != .established
    }
    _ = try wire.a.tcp.write(client, [UInt8](repeating: 0x61, count: 4000).span)
    wire.a.poll(now: wire.now)
    let sent = wire.a.takeSent().map { $0.withBytes { $0.copyToArray() } }
    let data = try #require(sent.first { $0[0] == version && $0.count > 2 + 1000 })
    wire.inject(
      toA: Self.unreachable(
        quoting: Array(data[2...]), code: Self.portUnreachable[version]!, version: version),
      version: version)
    #expect(wire.a.tcp.state(client) == .established)
    #expect(wire.a.tcp.error(client) == nil)
    #expect(wire.a.tcp.counters.icmpSoftErrors == 1)
    #expect(wire.a.tcp.counters.connectionsRefusedByICMP == 0)
  }
}
