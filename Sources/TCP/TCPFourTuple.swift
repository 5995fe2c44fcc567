import NetCore

/// The addresses and ports that name a TCP connection, seen from this host.
public struct TCPFourTuple: Hashable, Sendable {
  public var localAddress: IPv4Address
  public var localPort: UInt16
  public var remoteAddress: IPv4Address
  public var remotePort: UInt16

  public init(
    localAddress: IPv4Address, localPort: UInt16, remoteAddress: IPv4Address, remotePort: UInt16
  ) {
    self.localAddress = localAddress
    self.localPort = localPort
    self.remoteAddress = remoteAddress
    self.remotePort = remotePort
  }

  /// The tuple packed into two words, for hashing with a key.
  var words: (UInt64, UInt64) {
    (
      UInt64(localAddress.rawValue) << 32 | UInt64(remoteAddress.rawValue),
      UInt64(localPort) << 16 | UInt64(remotePort)
    )
  }
}

extension TCPFourTuple: CustomStringConvertible {
  public var description: String {
    "\(localAddress):\(localPort)-\(remoteAddress):\(remotePort)"
  }
}
