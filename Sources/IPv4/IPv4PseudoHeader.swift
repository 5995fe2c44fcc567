import NetCore

extension InternetChecksum {
  /// The sum of the IPv4 pseudo-header that TCP and UDP checksums cover (RFC 9293 §3.1,
  /// RFC 768): source and destination addresses, a zero byte and the protocol number, and the
  /// transport length.
  public static func ipv4PseudoHeader(
    source: IPv4Address, destination: IPv4Address, protocolNumber: IPProtocolNumber, length: Int
  ) -> InternetChecksum {
    var sum = InternetChecksum()
    sum.add(source)
    sum.add(destination)
    sum.add(UInt16(protocolNumber.rawValue))
    sum.add(UInt16(truncatingIfNeeded: length))
    return sum
  }
}
