import NetCore

extension InternetChecksum {
  /// The sum of the IPv6 pseudo-header that upper-layer checksums cover (RFC 8200 §8.1):
  /// source and destination addresses, the 32-bit upper-layer packet length, three zero bytes
  /// and the next header value of the upper-layer protocol (TCP, UDP, ICMPv6).
  public static func ipv6PseudoHeader(
    source: IPv6Address, destination: IPv6Address, nextHeader: IPv6NextHeader, length: Int
  ) -> InternetChecksum {
    pseudoHeader(
      source: .v6(source), destination: .v6(destination),
      protocolNumber: IPProtocolNumber(rawValue: nextHeader.rawValue), length: length)
  }
}
