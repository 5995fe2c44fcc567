import IPv4
import NetCore
import TCP

/// The stack's side of the relay's TCP (relay mode): a guest's SYN to another host becomes a
/// pending open in the TCP layer (``TCPPendingOpenTable``); the host side takes the new ones,
/// connects to the real destination and answers each: accepted (the handshake completes and
/// the connection is the relay's, an ordinary TCP connection whose local address is the
/// destination), refused (RST, RFC 9293 §3.10.7.1) or unreachable (ICMP destination
/// unreachable quoting the SYN, RFC 1122 §3.2.2.1).
extension DirectStack {
  /// Pending opens, at most, before a new SYN is dropped (the guest retransmits it).
  public static let relayPendingOpenLimit = 1024

  /// Hands a guest's TCP segment to another host to the TCP layer, marked relayed.
  mutating func relayTCP(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    tcp.input(
      TransportDelivery(
        source: .v4(delivery.header.source), destination: .v4(delivery.header.destination),
        checksumVerified: checksumVerified, linkBroadcast: delivery.linkBroadcast,
        isBroadcast: delivery.isBroadcast, isRelayed: true),
      segment: packet.extracting(droppingFirst: delivery.headerLength), now: now,
      network: &network)
  }

  /// Takes the TCP opens that wait for the host side to connect.
  public mutating func takeRelayedTCPOpens() -> [TCPPendingOpenTable.Entry] {
    tcp.takeRecordedPendingOpens()
  }

  /// The destination accepted pending open `id`: the SYN-ACK goes out and the connection is
  /// the caller's. Nil when the open is gone or could not be admitted (then reset).
  public mutating func acceptRelayedTCPOpen(_ id: UInt64, now: Instant) -> TCPConnectionID? {
    tcp.acceptPendingOpen(id, now: now, network: &network)
  }

  /// The destination refused pending open `id`: the guest gets a RST.
  public mutating func refuseRelayedTCPOpen(_ id: UInt64, now: Instant) {
    tcp.refusePendingOpen(id, now: now, network: &network)
  }

  /// The destination of pending open `id` is unreachable: the guest gets ICMP (or ICMPv6)
  /// destination unreachable (`reason`) quoting the IP header and the first bytes of its SYN.
  public mutating func rejectRelayedTCPOpen(
    _ id: UInt64, code reason: RelayUnreachable, now: Instant
  ) {
    guard let entry = tcp.forgetPendingOpen(id) else { return }
    let guest = entry.tuple.remoteAddress
    let destination = entry.tuple.localAddress
    let quote = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + TCPHeader.minimumLength)
    TCPHeader(
      sourcePort: entry.tuple.remotePort, destinationPort: entry.tuple.localPort,
      sequenceNumber: entry.synSequence, acknowledgmentNumber: SequenceNumber(0), flags: .syn,
      window: entry.synWindow
    ).prepend(to: quote, source: guest, destination: destination)
    sendRelayedUnreachable(
      reason, quoting: quote, protocolNumber: .tcp, guest: guest, destination: destination,
      now: now)
  }
}
