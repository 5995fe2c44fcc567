import NetCore

/// One UDP datagram as a service sees it (RFC 768): its payload and the other end's address
/// and port, which is where it came from when it arrives and where it goes when it is sent.
public struct Datagram: Equatable, Sendable {
  public var payload: [UInt8]
  /// The other end's address: the source of a datagram received, the destination of one sent.
  public var address: IPAddress
  /// The other end's port.
  public var port: UInt16

  public init(payload: [UInt8], address: IPAddress, port: UInt16) {
    self.payload = payload
    self.address = address
    self.port = port
  }
}
