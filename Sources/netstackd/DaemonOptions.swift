import Applications
import ControlProtocol
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import TAP
import TCP

/// The daemon's command line, parsed and checked.
///
/// Every bad value is reported as one line naming the option; nothing is configured until all
/// of them have been checked.
struct DaemonOptions {
  /// Which network stack the services run on.
  enum Backend: String {
    /// The Swift stack over a device.
    case direct
    /// The host's own sockets (development).
    case socket
  }

  /// The device under the direct stack.
  enum Device: Equatable {
    case tap(String)
    case unixConnect(String)
    case unixListen(String)
    /// A Xen vif, by index, through the Swift netfront driver.
    case netfront(Int)

    var option: String {
      switch self {
      case .tap: "--tap"
      case .unixConnect: "--unix"
      case .unixListen: "--unix-listen"
      case .netfront: "--netfront"
      }
    }
  }

  /// What to do with the host side of a TAP device.
  enum HostAddress: Equatable {
    /// Give it the first free address of `--ip`'s subnet if it has none, and bring it up.
    case automatic
    /// Leave it alone.
    case none
    /// Give it this address and bring it up.
    case address(IPv4CIDR)
  }

  /// One `--forward tcp:PORT=HOST:PORT`.
  struct Forward: Equatable {
    var port: UInt16
    var target: SocketAddress
  }

  var backend = Backend.direct
  var device: Device?
  /// `--netns PATH`: the network namespace the TAP device is made in (nil: the daemon's own).
  var networkNamespace: String?
  /// The stack's address; with the socket backend, the address services bind to.
  var address: IPv4CIDR?
  var gateway: IPv4Address?
  var mac: MACAddress?
  var mtu: Int?
  /// Checksum and segmentation offload through the TAP's virtio-net header.
  var offloads = true
  /// `--tap-writes`: how a TAP device writes its frames.
  var tapWriteMode = TAPWriteMode.write
  /// `--busy-poll`: whether and how long the event loop polls after traffic before it sleeps
  /// (default: adaptive, up to ``BusyPollPolicy/defaultAdaptiveMaximum``).
  var busyPoll = BusyPollPolicy.Mode.adaptive(maximum: BusyPollPolicy.defaultAdaptiveMaximum)
  /// `--busy-poll-share`: the adaptive mode's duty-cycle cap, in percent (100: none).
  var busyPollShare: Int64 = 100
  var hostAddress: HostAddress?
  /// `--ip6 ADDR/PREFIX`, in the order given.
  var ipv6Addresses: [IPv6CIDR] = []
  /// `--ip6 auto`: addresses from the prefixes routers advertise (SLAAC).
  var ipv6Autoconfiguration = false
  /// `--gateway6`.
  var ipv6Gateway: IPv6Address?
  /// `--host-ip6`: an IPv6 address for the host side of the TAP.
  var hostIPv6Address: IPv6CIDR?
  /// `--ip6-secret-file`: where the secret of the stable interface identifiers is kept.
  var ipv6SecretFile: String?
  var pcap: String?
  var logLevel = LogLevel.info
  var impairment: ImpairmentConfiguration?
  var impairmentSeed: UInt64 = 1
  var services = ServiceList.all
  var httpRoot: String?
  /// `--echo-client ADDR:PORT[,BYTES]`: the stack connects out to an echo server.
  var echoClient: (server: SocketAddress, bytes: Int)?
  var forwards: [Forward] = []
  /// `--forward udp:PORT=HOST:PORT`, in order.
  var udpForwards: [Forward] = []
  /// `--publish SPEC`, in order.
  var publishes: [PublishSpec] = []
  var control: String?
  /// `--dhcp`: get the stack's address from a DHCP server instead of `--ip`.
  var dhcp = false
  /// `--dhcp-server FIRST-LAST`: serve addresses from this pool on the link.
  var dhcpServerPool: ClosedRange<IPv4Address>?
  /// `--dhcp-dns ADDR[,ADDR]`: the DNS servers the DHCP server hands out.
  var dhcpDNS: [IPv4Address] = []
  /// `--dhcp-lease SECONDS`: the DHCP server's lease time.
  var dhcpLeaseSeconds: Int?
  /// `--memory-limit SIZE`: the stack's memory budget.
  var memoryLimit = MemoryBudget.defaultLimit
  /// `--max-connections N`: TCP connections at once.
  var maximumConnections = 65536
  /// `--tcp-user-timeout SECONDS`: how long data may wait for the peer (nil: never).
  var userTimeout: Interval? = .seconds(300)
  /// `--tcp-time-wait SECONDS`: how long a connection stays in TIME-WAIT.
  var timeWaitDuration = TCPConfiguration().timeWaitDuration
  /// `--tcp-keepalive IDLE,INTERVAL,COUNT`: keepalive on the stack's connections and the
  /// relays' host sockets (nil: off).
  var keepalive: TCPKeepalive? = TCPKeepalive(
    idle: .seconds(120), interval: .seconds(20), probes: 4)
  /// `--http-header-timeout`, `--http-keepalive-timeout`, `--http-send-timeout`.
  var httpLimits = HTTPServerLimits()
  /// `--relay`: the guests' network (``planRelay()``), and its options.
  var relay = false
  var relayDNS = RelayDNSChoice.planned
  /// `--dns-address6` (``planRelayDNS6()``).
  var relayDNS6 = RelayDNS6Choice.planned
  /// `--resolv-conf PATH` (nil: /etc/resolv.conf).
  var resolvConf: String?
  /// `--deny CIDR`, in order.
  var denied: [IPv4CIDR] = []
  /// `--deny` with an IPv6 range.
  var deniedIPv6: [IPv6CIDR] = []
  /// `--host-loopback ADDR`.
  var hostLoopback: IPv4Address?
  /// `--host-loopback` given an IPv6 address: where guests reach the host's ::1.
  var hostLoopbackIPv6: IPv6Address?
  /// `--relay-flows N`, `--relay-idle-timeout SECONDS` (nil: the tables' defaults).
  var relayFlows: Int?
  var relayIdleTimeout: Int?
  /// `--relay-half-closed-timeout SECONDS` (nil: the default; 0: never).
  var relayHalfClosedTimeout: Int?
  /// `--router-adv on|off` (nil: as planned, on with `--relay`), `--ra-prefix`, `--ra-dns`:
  /// the guests' IPv6 router (``planRouterAdvertisement()``).
  var routerAdvertising: Bool?
  var advertisedPrefix: IPv6CIDR?
  var advertisedDNS = AdvertisedDNSChoice.planned
  var showHelp = false
  var showVersion = false

  static let version = "0.2.0"
  static let defaultAddress = IPv4CIDR(address: IPv4Address(10, 77, 0, 2), prefixLength: 24)

  /// The whole help: usage, the options from ``table``, and how the daemon behaves.
  static var help: String {
    """
    Usage: netstackd --tap NAME [options]
           netstackd --unix PATH | --unix-listen PATH [options]
           netstackd --netfront [INDEX] [options]
           netstackd --backend socket [--ip ADDR] [--ip6 ADDR]... [options]
           netstackd status --control PATH [--json]
           netstackd publish --control PATH add|remove|list [SPEC] [--json]

    Runs the netstack Swift TCP/IP stack on a Linux TAP device or a Unix-socket frame link
    (QEMU -netdev stream, passt), or runs the same services on the host's own sockets. The
    host reaches it with ordinary tools: ping, nc, curl.

    \(parser.help())

    ICMP echo (ping) is always answered; closed TCP ports answer RST, closed UDP ports ICMP
    port unreachable. The direct stack speaks IPv6 beside IPv4: ICMPv6 echo at every address
    (link-local ones included), and the same services, TCP and UDP over both. So does the
    socket backend: its services listen on --ip and on each --ip6 (default ::1).
    SIGINT or SIGTERM stops the daemon; it closes the device and prints its counters.
    Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a bad option or a device
    or address that could not be set up.
    """
  }

  /// The parser made from ``table``.
  static let parser = CommandLineParser(table)

  /// Parses `arguments` (without the program name), then checks the values against each other.
  init(arguments: [String]) throws(OptionError) {
    try Self.parser.parse(arguments, into: &self)
    if showHelp || showVersion { return }
    try planRelay()
    try planRouterAdvertisement()
    try planRelayDNS6()
    try checkHostLoopbackIPv6()
    try validate()
    try validatePublishing()
  }

  /// Chooses the device; a second, different one is an error.
  mutating func setDevice(_ chosen: Device, option: String) throws(OptionError) {
    if let device, device != chosen {
      throw OptionError(option, "cannot be combined with \(device.option) (one device at a time)")
    }
    device = chosen
  }

  /// The stack's address: as given, or the default for the backend.
  var stackAddress: IPv4CIDR {
    address
      ?? (backend == .socket
        ? IPv4CIDR(address: IPv4Address(127, 0, 0, 1), prefixLength: 8) : Self.defaultAddress)
  }

  /// Checks the values against each other.
  private func validate() throws(OptionError) {
    try validateDHCP()
    if networkNamespace != nil {
      guard case .tap = device else {
        throw OptionError("--netns", "only applies to a TAP device (--tap)")
      }
    }
    if backend == .socket {
      // Nothing of a device applies to the host's own sockets.
      for (given, option) in [
        (device?.option, device?.option ?? ""), (mac.map { _ in "--mac" }, "--mac"),
        (mtu.map { _ in "--mtu" }, "--mtu"), (gateway.map { _ in "--gateway" }, "--gateway"),
        (hostAddress.map { _ in "--host-ip" }, "--host-ip"), (pcap.map { _ in "--pcap" }, "--pcap"),
        (impairment.map { _ in "--impair" }, "--impair"),
        (ipv6Autoconfiguration ? "--ip6" : nil, "--ip6"),
        (ipv6Gateway.map { _ in "--gateway6" }, "--gateway6"),
        (hostIPv6Address.map { _ in "--host-ip6" }, "--host-ip6"),
      ] where given != nil {
        throw OptionError(option, "has no meaning with --backend socket (there is no device)")
      }
      try validateSocketIPv6()
    } else {
      guard let device else {
        throw OptionError(
          "--tap", "is required (or --unix, --unix-listen, --netfront, or --backend socket)")
      }
      if case .tap = device {
      } else if hostAddress != nil {
        throw OptionError("--host-ip", "only applies to a TAP device")
      } else if hostIPv6Address != nil {
        throw OptionError("--host-ip6", "only applies to a TAP device")
      }
      try validateIPv6()
    }
    if dhcp {
      if case .address(let host) = hostAddress, !host.address.isUnicast {
        throw OptionError("--host-ip", "'\(host)' is not a unicast host address")
      }
      try validateForwards()
      return
    }
    let cidr = stackAddress
    let ours = cidr.address
    guard ours.isUnicast, backend == .socket || !ours.isLoopback else {
      throw OptionError("--ip", "'\(cidr)' is not a unicast host address")
    }
    if backend == .direct && cidr.prefixLength <= 30
      && (ours == cidr.networkAddress || ours == cidr.broadcastAddress)
    {
      throw OptionError("--ip", "'\(cidr)' is the network or broadcast address of its subnet")
    }
    if let gateway {
      guard cidr.contains(gateway), gateway != ours, gateway.isUnicast else {
        throw OptionError("--gateway", "'\(gateway)' is not another host inside \(cidr.network)")
      }
    }
    if let mac {
      guard mac.isUnicast, mac != .zero else {
        throw OptionError("--mac", "'\(mac)' is not a unicast MAC address")
      }
    }
    if case .address(let host) = hostAddress {
      guard host.address != ours else {
        throw OptionError("--host-ip", "'\(host)' is the stack's own address")
      }
      guard host.address.isUnicast, cidr.contains(host.address) else {
        throw OptionError("--host-ip", "'\(host)' is not a host address inside \(cidr.network)")
      }
    }
    try validateForwards()
  }

  /// The IPv6 options against each other: distinct unicast addresses, a gateway and a host
  /// address that are not ours.
  private func validateIPv6() throws(OptionError) {
    for (index, cidr) in ipv6Addresses.enumerated() {
      let address = cidr.address
      guard address.isUnicast, !address.isIPv4Mapped else {
        throw OptionError("--ip6", "'\(cidr)' is not a unicast address")
      }
      if ipv6Addresses[..<index].contains(where: { $0.address == address }) {
        throw OptionError("--ip6", "'\(address)' is given twice")
      }
    }
    if ipv6Addresses.count > DaemonOptions.maximumIPv6Addresses {
      throw OptionError(
        "--ip6",
        "at most \(DaemonOptions.maximumIPv6Addresses) addresses (given \(ipv6Addresses.count))")
    }
    if let gateway = ipv6Gateway {
      guard gateway.isUnicast, !gateway.isIPv4Mapped,
        !ipv6Addresses.contains(where: { $0.address == gateway })
      else {
        throw OptionError("--gateway6", "'\(gateway)' is not another host's unicast address")
      }
      guard gateway.isLinkLocal || ipv6Addresses.contains(where: { $0.contains(gateway) }) else {
        throw OptionError(
          "--gateway6", "'\(gateway)' is neither link-local nor inside an --ip6 prefix")
      }
    }
    if let host = hostIPv6Address {
      guard host.address.isUnicast, !host.address.isIPv4Mapped else {
        throw OptionError("--host-ip6", "'\(host)' is not a unicast address")
      }
      guard !ipv6Addresses.contains(where: { $0.address == host.address }) else {
        throw OptionError("--host-ip6", "'\(host)' is the stack's own address")
      }
    }
  }

  /// The socket backend's `--ip6` addresses, each bound by its services: distinct, unicast or
  /// the loopback `::1`, and not link-local (binding one needs an interface, which the option
  /// does not name).
  private func validateSocketIPv6() throws(OptionError) {
    for (index, cidr) in ipv6Addresses.enumerated() {
      let address = cidr.address
      guard address.isUnicast || address.isLoopback, !address.isIPv4Mapped else {
        throw OptionError("--ip6", "'\(cidr)' is not a unicast address")
      }
      guard !address.isLinkLocal else {
        throw OptionError(
          "--ip6", "'\(address)' is link-local: the socket backend binds no link-local address")
      }
      if ipv6Addresses[..<index].contains(where: { $0.address == address }) {
        throw OptionError("--ip6", "'\(address)' is given twice")
      }
    }
    if ipv6Addresses.count > DaemonOptions.maximumIPv6Addresses {
      throw OptionError(
        "--ip6",
        "at most \(DaemonOptions.maximumIPv6Addresses) addresses (given \(ipv6Addresses.count))")
    }
  }

  /// The most `--ip6` addresses: the IPv6 layer's address table holds the link-local address
  /// and SLAAC's besides.
  static let maximumIPv6Addresses = 8

  private func validateForwards() throws(OptionError) {
    for forward in forwards where services.entries.contains(where: { $0.port == forward.port }) {
      throw OptionError(
        "--forward", "port \(forward.port) is already used by a service (see --serve)")
    }
    if Set(forwards.map(\.port)).count != forwards.count {
      throw OptionError("--forward", "the same port is forwarded twice")
    }
  }

  /// The DHCP options against each other and the rest.
  private func validateDHCP() throws(OptionError) {
    if dhcp {
      if backend == .socket {
        throw OptionError("--dhcp", "has no meaning with --backend socket (there is no device)")
      }
      if address != nil {
        throw OptionError("--dhcp", "cannot be combined with --ip (DHCP gives the address)")
      }
      if gateway != nil {
        throw OptionError("--dhcp", "cannot be combined with --gateway (DHCP gives the gateway)")
      }
      if dhcpServerPool != nil {
        throw OptionError("--dhcp-server", "needs a fixed --ip: it cannot be combined with --dhcp")
      }
    }
    guard let pool = dhcpServerPool else {
      if !dhcpDNS.isEmpty { throw OptionError("--dhcp-dns", "only applies with --dhcp-server") }
      if dhcpLeaseSeconds != nil {
        throw OptionError("--dhcp-lease", "only applies with --dhcp-server")
      }
      return
    }
    if backend == .socket {
      throw OptionError(
        "--dhcp-server", "has no meaning with --backend socket (there is no device)")
    }
    let cidr = stackAddress
    guard cidr.prefixLength <= 30, cidr.contains(pool.lowerBound), cidr.contains(pool.upperBound),
      pool.lowerBound != cidr.networkAddress, pool.upperBound != cidr.broadcastAddress,
      pool.lowerBound.isUnicast, pool.upperBound.isUnicast
    else {
      throw OptionError(
        "--dhcp-server",
        "'\(pool.lowerBound)-\(pool.upperBound)' is not a range of host addresses inside \(cidr.network)"
      )
    }
    if pool.contains(cidr.address) {
      throw OptionError(
        "--dhcp-server",
        "'\(pool.lowerBound)-\(pool.upperBound)' contains the stack's own address \(cidr.address)")
    }
  }

  /// The host-side address `automatic` picks: the first host of the subnet that is not ours.
  var automaticHostAddress: IPv4CIDR? {
    let cidr = stackAddress
    guard cidr.prefixLength <= 30 else { return nil }
    let first = cidr.networkAddress.rawValue + 1
    let candidate = first == cidr.address.rawValue ? first + 1 : first
    return IPv4CIDR(address: IPv4Address(rawValue: candidate), prefixLength: cidr.prefixLength)
  }
}
