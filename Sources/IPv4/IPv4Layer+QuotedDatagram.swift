import NetCore

/// What an ICMP error quotes of a datagram we sent (RFC 792: its IP header and the first 8
/// bytes of its payload), once checked to be ours (RFC 5927 §4.1).
struct QuotedDatagram {
  var source: IPv4Address
  var destination: IPv4Address
  var protocolNumber: IPProtocolNumber
  /// The first 8 bytes of the transport header: ports, and for TCP the sequence number.
  var transportHeader: [UInt8]
}

extension IPv4Layer {
  /// The datagram `quote` names, if it is one we sent: an IPv4 header with our address as its
  /// source, followed by at least 8 bytes of its payload; else nil (the caller counts it).
  func ourQuotedDatagram(in quote: Span<UInt8>) -> QuotedDatagram? {
    guard quote.count >= IPv4Header.length, quote[0] >> 4 == 4 else { return nil }
    let headerLength = Int(quote[0] & 0x0F) * 4
    let source = IPv4Address(quote, at: 12)
    guard headerLength >= IPv4Header.length, quote.count >= headerLength + 8,
      let ours = address?.address, source == ours
    else { return nil }
    return QuotedDatagram(
      source: source, destination: IPv4Address(quote, at: 16),
      protocolNumber: IPProtocolNumber(rawValue: quote[9]),
      transportHeader: quote.extracting(headerLength..<(headerLength + 8)).copyToArray())
  }
}
