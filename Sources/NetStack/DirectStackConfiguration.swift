import NetCore
import TCP

/// Everything needed to bring up a `DirectStack` on one Ethernet device.
public struct DirectStackConfiguration: Sendable {
  /// Our MAC address on the link.
  public var hardwareAddress: MACAddress
  /// Largest IPv4 packet per frame.
  public var mtu: Int
  /// Our address and prefix; nil to start without one (DHCP).
  public var address: IPv4CIDR?
  /// The default gateway, which must be inside `address`'s network.
  public var gateway: IPv4Address?
  /// Seeds every random choice of the stack (ports, identifiers); a runtime passes entropy,
  /// a simulation a fixed number.
  public var seed: UInt64
  /// Whether the device takes TCP segmentation and checksum offload.
  public var segmentationOffload: Bool
  /// TCP buffer sizes, timers and limits.
  public var tcp: TCPConfiguration
  /// The most memory the stack's buffers may hold (`MemoryBudget`).
  public var memoryLimit: Int

  /// A configuration; everything but the MAC address has a default: MTU 1500, no address (set
  /// one, or start the DHCP client), no gateway, seed 0 (pass real entropy on a host), no
  /// segmentation offload (it must match the device's), TCP's defaults, a 256 MiB budget.
  public init(
    hardwareAddress: MACAddress, mtu: Int = 1500, address: IPv4CIDR? = nil,
    gateway: IPv4Address? = nil, seed: UInt64 = 0, segmentationOffload: Bool = false,
    tcp: TCPConfiguration = TCPConfiguration(), memoryLimit: Int = MemoryBudget.defaultLimit
  ) {
    self.tcp = tcp
    self.memoryLimit = memoryLimit
    self.hardwareAddress = hardwareAddress
    self.mtu = mtu
    self.address = address
    self.gateway = gateway
    self.seed = seed
    self.segmentationOffload = segmentationOffload
  }
}
