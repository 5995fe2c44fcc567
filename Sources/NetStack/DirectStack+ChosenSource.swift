import IPv4
import NetCore
import TCP

extension DirectStack {
  /// Opens a TCP connection from a chosen source address and port (its SYN is sent now):
  /// a published port's connection into the guest, showing the guest its real client. See
  /// `TCPLayer.connect(to:port:from:sourcePort:now:network:)`.
  public mutating func connectTCP(
    to address: IPAddress, port: UInt16, from source: IPAddress, sourcePort: UInt16?,
    now: Instant
  ) throws(TCPError) -> TCPConnectionID {
    try tcp.connect(
      to: address, port: port, from: source, sourcePort: sourcePort, now: now, network: &network)
  }

  /// Hands TCP to the layer when a datagram for another address (relayed) belongs to one of
  /// its connections: the guest's answers to a published port's client, whose address the
  /// stack's connection took. Returns whether it did.
  mutating func deliverToOwnTCPConnection(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) -> Bool {
    let header = delivery.header
    guard header.protocolNumber == .tcp, packet.count >= delivery.headerLength + 4 else {
      return false
    }
    let ports = packet.extracting(droppingFirst: delivery.headerLength)
    let sourcePort = UInt16(ports[0]) << 8 | UInt16(ports[1])
    let destinationPort = UInt16(ports[2]) << 8 | UInt16(ports[3])
    let tuple = TCPFourTuple(
      localAddress: .v4(header.destination), localPort: destinationPort,
      remoteAddress: .v4(header.source), remotePort: sourcePort)
    guard tcp.hasConnection(tuple) else { return false }
    // For the layer, the address is its connection's own.
    let own = TransportDelivery(
      source: .v4(header.source), destination: .v4(header.destination),
      checksumVerified: checksumVerified, linkBroadcast: delivery.linkBroadcast,
      isBroadcast: delivery.isBroadcast, isForOtherAddress: false)
    tcp.input(
      own,
      segment: ports, now: now, network: &network)
    return true
  }
}
