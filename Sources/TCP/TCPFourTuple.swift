import NetCore

/// The addresses and ports that name a TCP connection, seen from this host (RFC 9293 §3.2:
/// the socket pair). Both addresses are of one family, IPv4 or IPv6.
public struct TCPFourTuple: Hashable, Sendable {
  public var localAddress: IPAddress
  public var localPort: UInt16
  public var remoteAddress: IPAddress
  public var remotePort: UInt16

  public init(
    localAddress: IPAddress, localPort: UInt16, remoteAddress: IPAddress, remotePort: UInt16
  ) {
    self.localAddress = localAddress
    self.localPort = localPort
    self.remoteAddress = remoteAddress
    self.remotePort = remotePort
  }

  /// The send MSS to assume when the peer's SYN has no MSS option (RFC 9293 §3.7.1): 536 over
  /// IPv4 (576 − 40), 1220 over IPv6 (1280 − 60, RFC 8200 §5).
  var defaultMaximumSegmentSize: Int { remoteAddress.isIPv4 ? 536 : 1220 }

  /// The tuple packed into 64-bit words, for hashing with a key (SipHash): two for IPv4 (both
  /// addresses in one word, the ports in the other), five for IPv6 (the four address halves
  /// and the ports). Addresses of mixed families, which no connection has, hash as IPv6 with
  /// the IPv4 address in the low half.
  var words: [UInt64] {
    let ports = UInt64(localPort) << 16 | UInt64(remotePort)
    if case .v4(let local) = localAddress, case .v4(let remote) = remoteAddress {
      return [UInt64(local.rawValue) << 32 | UInt64(remote.rawValue), ports]
    }
    let local = TCPFourTuple.halves(localAddress)
    let remote = TCPFourTuple.halves(remoteAddress)
    return [local.high, local.low, remote.high, remote.low, ports]
  }

  private static func halves(_ address: IPAddress) -> (high: UInt64, low: UInt64) {
    switch address {
    case .v4(let address): (0, UInt64(address.rawValue))
    case .v6(let address): (address.high, address.low)
    }
  }
}

extension TCPFourTuple: CustomStringConvertible {
  /// `a.b.c.d:port-a.b.c.d:port`, or `[v6]:port-[v6]:port` (RFC 5952 §6).
  public var description: String {
    "\(TCPFourTuple.endpoint(localAddress, localPort))-\(TCPFourTuple.endpoint(remoteAddress, remotePort))"
  }

  private static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
    address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
  }
}
