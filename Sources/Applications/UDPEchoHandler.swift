/// The echo service (RFC 862, "UDP Based Echo Service") on one UDP port: each datagram goes
/// back to its sender as it came, unless ``UDPEchoRefusal`` says that answering could start a
/// loop or reach no single host; what it did is counted in ``counters``.
public struct UDPEchoHandler: DatagramHandler, Sendable {
  public let port: UInt16
  public private(set) var counters = UDPEchoCounters()

  /// Echo on `port` (7 is its own, RFC 862).
  public init(port: UInt16 = 7) {
    self.port = port
  }

  public mutating func receive(_ datagram: Datagram) -> Datagram? {
    counters.datagramsReceived += 1
    if let refusal = UDPEchoRefusal(
      address: datagram.address, port: datagram.port, servicePort: port)
    {
      counters.count(refusal)
      return nil
    }
    counters.datagramsEchoed += 1
    return datagram
  }
}
