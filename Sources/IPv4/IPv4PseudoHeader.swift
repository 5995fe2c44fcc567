import NetCore

extension InternetChecksum {
  /// The sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 9293 §3.1,
  /// RFC 768): source and destination addresses, a zero byte and the protocol number, and the
  /// transport length.
  public static func ipv4PseudoHeader(
    source: IPv4Address, destination: IPv4Address, protocolNumber: IPProtocolNumber, length: Int
  ) -> InternetChecksum {
    pseudoHeader(
      source: .v4(source), destination: .v4(destination), protocolNumber: protocolNumber,
      length: length)
  }
}
