import IPv6
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
  /// Whether the link runs IPv6 at all (Linux's `disable_ipv6` turned around): on by default,
  /// with a link-local address always; off, IPv6 frames are dropped and counted
  /// (`ipv6_link.dropped_not_running`) and nothing of IPv6 is sent. IPv6 also stays off on a
  /// link whose MTU is below its minimum of 1280 (RFC 8200 §5).
  public var ipv6Enabled = true
  /// IPv6 addresses to configure (`--ip6 ADDR/PREFIX`), each checked by duplicate address
  /// detection first (RFC 4862 §5.4); unicast and distinct (a refused one is left out). The
  /// link-local address comes by itself.
  public var ipv6Addresses: [IPv6CIDR] = []
  /// The IPv6 default router (`--gateway6`), if any; routers also come from advertisements.
  public var ipv6Gateway: IPv6Address?
  /// Form addresses from the prefixes routers advertise (SLAAC, RFC 4862 §5.5.3; `--ip6
  /// auto`). Routers, the MTU and DNS servers are taken from advertisements either way.
  public var ipv6Autoconfiguration = false
  /// The secret of the stable interface identifiers (RFC 7217 §5's secret_key): the same
  /// secret gives the same link-local and SLAAC addresses on the same link; nil draws one
  /// from ``seed``, which a host runtime seeds anew each run.
  public var ipv6StableSecret: (UInt64, UInt64)?
  /// Be the link's IPv6 router (RFC 4861 §6.2): send router advertisements with these
  /// prefixes, DNS servers and MTU, and answer router solicitations (relay mode); nil for a
  /// host, which takes in other routers' advertisements instead.
  public var ipv6RouterAdvertisement: RouterAdvertiser.Configuration?

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
