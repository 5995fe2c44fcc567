import IPv4
import NetCore
import TCP

extension DirectStack {
  /// Hands TCP a guest's destination unreachable (RFC 792, RFC 1122 §4.2.3.9) about a
  /// segment of a connection whose source address the stack chose: a published port's
  /// connection that took its client's address (`DirectStack+ChosenSource.swift`). The
  /// message is addressed to that source, another host's address, so it comes in as relayed
  /// rather than to the IPv4 layer's own check of quotes (`IPv4Layer+QuotedDatagram.swift`).
  /// Taken when the quote is an IPv4 header from that address with 8 bytes of a TCP header
  /// and names a connection of the layer; TCP then checks the sequence number (RFC 5927
  /// §4.1): a port or protocol unreachable about the SYN refuses the connection at once
  /// (`tcp.connections_refused_by_icmp`), anything else is a soft error. Fragmentation needed
  /// is left alone (the connection's segments are the guest's to size). Returns whether it
  /// took the message.
  mutating func deliverErrorToOwnTCPConnection(
    _ delivery: IPv4Delivery, packet: Span<UInt8>
  ) -> Bool {
    let header = delivery.header
    guard header.protocolNumber == .icmp else { return false }
    let message: ICMPv4Packet
    do {
      message = try ICMPv4Packet(checking: packet.extracting(droppingFirst: delivery.headerLength))
    } catch {
      return false
    }
    guard message.type == .destinationUnreachable,
      message.code != ICMPv4UnreachableCode.fragmentationNeeded.rawValue
    else { return false }
    let quote = message.payload
    guard quote.count >= IPv4Header.length, quote[0] >> 4 == 4 else { return false }
    let quotedHeaderLength = Int(quote[0] & 0x0F) * 4
    guard quotedHeaderLength >= IPv4Header.length, quote.count >= quotedHeaderLength + 8,
      quote[9] == IPProtocolNumber.tcp.rawValue, IPv4Address(quote, at: 12) == header.destination
    else { return false }
    let segment = quote.extracting(quotedHeaderLength..<(quotedHeaderLength + 8))
    let destination = IPv4Address(quote, at: 16)
    let tuple = TCPFourTuple(
      localAddress: .v4(header.destination),
      localPort: UInt16(segment[0]) << 8 | UInt16(segment[1]),
      remoteAddress: .v4(destination), remotePort: UInt16(segment[2]) << 8 | UInt16(segment[3]))
    guard tcp.hasConnection(tuple) else { return false }
    let isHard =
      message.code == ICMPv4UnreachableCode.port.rawValue
      || message.code == ICMPv4UnreachableCode.protocolUnreachable.rawValue
    tcp.destinationUnreachable(
      quotedHeader: segment, from: .v4(header.destination), to: .v4(destination), isHard: isHard)
    return true
  }
}
