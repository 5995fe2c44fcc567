import NetCore

/// The layer as the guests' gateway in relay mode (``IPv6Layer/relaysOtherDestinations``):
/// packets to another host's global unicast address are handed up whole, ICMPv6 included, for
/// a relay to re-originate, and what the relay answers goes out from that host's address
/// (RFC 8200 §3; RFC 4291 §2.5.6: a link-local address is never forwarded off the link).
extension IPv6Layer {
  /// Whether a packet from `source` to `destination`, which is not ours, goes to the relay:
  /// relaying is on, the destination is a unicast address of global scope (not link-local,
  /// multicast, loopback, unspecified or IPv4-mapped) and not one of ours, even tentative,
  /// and the source is not unspecified. A link-local source is let through for the relay to
  /// refuse (RFC 4443 §3.1 code 2, beyond scope of source address).
  func relays(from source: IPv6Address, to destination: IPv6Address) -> Bool {
    relaysOtherDestinations && !source.isUnspecified && isRelayable(destination)
  }

  /// Whether `address` is one a relayed packet may be to, or a relayed answer from.
  func isRelayable(_ address: IPv6Address) -> Bool {
    address.isUnicast && !address.isLinkLocal && !address.isIPv4Mapped
      && addressTable.entry(for: address) == nil
  }

  /// Whether a packet may leave with `source`, which is not ours: the relay's answers come
  /// from the addresses guests sent to.
  func sendsAsRelay(from source: IPv6Address) -> Bool {
    relaysOtherDestinations && isRelayable(source)
  }

  /// A relayed packet's upper layer, whatever it is (the relay decides what it takes): the
  /// whole packet goes up, marked ``IPv6Delivery/isRelayed``.
  mutating func relayedUpperLayer(
    _ nextHeader: IPv6NextHeader, at offset: Int, nextHeaderField: Int,
    packet: borrowing IPv6Packet, linkMulticast: Bool
  ) -> IPv6Input {
    counters.packetsRelayed += 1
    return .local(
      IPv6Delivery(
        source: packet.source, destination: packet.destination, nextHeader: nextHeader,
        payloadOffset: offset, payloadLength: packet.bytes.count - offset,
        hopLimit: packet.hopLimit, trafficClass: packet.trafficClass,
        linkMulticast: linkMulticast, nextHeaderFieldOffset: nextHeaderField, isRelayed: true))
  }

  /// Sends an echo reply from `source`, another host's address, to `destination`: the answer
  /// a relay got from `source` for a request `destination` sent through us, with the
  /// request's identifier, sequence and data (RFC 4443 §4.2).
  public mutating func sendRelayedEchoReply(
    from source: IPv6Address, to destination: IPv6Address, identifier: UInt16, sequence: UInt16,
    payload: Span<UInt8>, now: Instant
  ) throws(IPv6SendError) {
    let reply = link.makePacketBuffer(
      capacity: headroom + ICMPv6Header.length + payload.count,
      headroom: headroom + ICMPv6Header.length)
    reply.append(copying: payload)
    ICMPv6Header.echo(reply: true, identifier: identifier, sequence: sequence)
      .prepend(to: reply, source: source, destination: destination)
    try send(
      reply, nextHeader: .icmpv6, to: destination, options: IPv6SendOptions(source: source),
      now: now)
    icmpCounters.echoRepliesSent += 1
  }
}
