import NetCore

/// Another host's claim to an address being probed (RFC 5227 §2.1.1): an ARP packet from
/// `hardwareAddress` with that address as its sender, or a probe of its own for it.
public struct ARPAddressClaim: Equatable, Sendable {
  public var address: IPv4Address
  public var hardwareAddress: MACAddress

  public init(address: IPv4Address, hardwareAddress: MACAddress) {
    self.address = address
    self.hardwareAddress = hardwareAddress
  }
}
