import IPv4
import NetCore

extension DirectStack {
  /// Tells a guest that its echo request to `destination` could not be delivered, as the host
  /// learnt from an ICMP error to its ping socket (or from the socket itself): a destination
  /// unreachable from the gateway (RFC 1812 §4.3.2.3, a router reporting for the path beyond
  /// it), quoting the request's IP header and first 8 bytes (RFC 792). The relay keeps no copy
  /// of what the guest sent, so the quote is rebuilt from the flow: the guest's addresses, its
  /// identifier and the sequence number, which is what a ping matches errors by.
  public mutating func sendRelayedEchoError(
    _ code: ICMPv4UnreachableCode, guest: IPv4Address, destination: IPv4Address,
    identifier: UInt16, sequence: UInt16, now: Instant
  ) {
    let quote = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length)
    ICMPv4Header.echo(reply: false, identifier: identifier, sequence: sequence).prepend(to: quote)
    IPv4Header(
      source: guest, destination: destination, protocolNumber: .icmp,
      payloadLength: ICMPv4Header.length
    ).prepend(to: quote)
    quote.withBytes {
      ipv4.sendDestinationUnreachable(code, about: $0, linkBroadcast: false, now: now)
    }
  }
}
