import IPv4
import IPv6
import NetCore

extension DirectStack {
  /// Tells a guest that its echo request to `destination` could not be delivered, as the host
  /// learnt from an ICMP error to its ping socket (or from the socket itself): a destination
  /// unreachable from the gateway (RFC 1812 §4.3.2.3, a router reporting for the path beyond
  /// it; RFC 4443 §3.1 over IPv6), quoting the request's IP header and first 8 bytes (RFC 792).
  /// The relay keeps no copy of what the guest sent, so the quote is rebuilt from the flow: the
  /// guest's addresses, its identifier and the sequence number, which is what a ping matches
  /// errors by.
  public mutating func sendRelayedEchoError(
    _ reason: RelayUnreachable, guest: IPAddress, destination: IPAddress,
    identifier: UInt16, sequence: UInt16, now: Instant
  ) {
    switch (guest, destination) {
    case (.v4, .v4):
      let quote = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length)
      ICMPv4Header.echo(reply: false, identifier: identifier, sequence: sequence)
        .prepend(to: quote)
      sendRelayedUnreachable(
        reason, quoting: quote, protocolNumber: .icmp, guest: guest, destination: destination,
        now: now)
    case (.v6(let guest6), .v6(let destination6)):
      let quote = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + ICMPv6Header.length)
      ICMPv6Header.echo(reply: false, identifier: identifier, sequence: sequence)
        .prepend(to: quote, source: guest6, destination: destination6)
      sendRelayedUnreachable(
        reason, quoting: quote,
        protocolNumber: IPProtocolNumber(rawValue: IPv6NextHeader.icmpv6.rawValue), guest: guest,
        destination: destination,
        now: now)
    default:
      break
    }
  }
}
