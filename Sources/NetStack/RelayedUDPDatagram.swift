import NetCore

/// A UDP datagram (RFC 768) a guest sent to another host through the stack, waiting for the
/// host side of the relay to send it from a UDP socket of the flow's.
public struct RelayedUDPDatagram: Sendable, Equatable {
  /// The guest's address and port, and the destination's as the guest named them.
  public var flow: UDPFlowKey
  /// Where the host sends it (the destination, or 127.0.0.1 for the host-loopback address).
  public var hostDestination: IPAddress
  public var payload: [UInt8]

  public init(flow: UDPFlowKey, hostDestination: IPAddress, payload: [UInt8]) {
    self.flow = flow
    self.hostDestination = hostDestination
    self.payload = payload
  }
}
