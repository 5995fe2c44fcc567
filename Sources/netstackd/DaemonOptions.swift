import Applications
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
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
  /// The stack's address; with the socket backend, the address services bind to.
  var address: IPv4CIDR?
  var gateway: IPv4Address?
  var mac: MACAddress?
  var mtu: Int?
  /// Checksum and segmentation offload through the TAP's virtio-net header.
  var offloads = true
  /// `--busy-poll`: how long the event loop polls after traffic before it sleeps.
  var busyPoll = Interval.zero
  var hostAddress: HostAddress?
  var pcap: String?
  var logLevel = LogLevel.info
  var impairment: ImpairmentConfiguration?
  var impairmentSeed: UInt64 = 1
  var services = ServiceList.all
  var httpRoot: String?
  /// `--echo-client ADDR:PORT[,BYTES]`: the stack connects out to an echo server.
  var echoClient: (server: SocketAddress, bytes: Int)?
  var forwards: [Forward] = []
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
  /// `--tcp-keepalive IDLE,INTERVAL,COUNT`: keepalive on the services' connections (nil: off).
  var keepalive: TCPKeepalive? = TCPKeepalive(
    idle: .seconds(120), interval: .seconds(20), probes: 4)
  /// `--http-header-timeout`, `--http-keepalive-timeout`, `--http-send-timeout`.
  var httpLimits = HTTPServerLimits()
  var showHelp = false
  var showVersion = false

  static let version = "0.2.0"
  static let defaultAddress = IPv4CIDR(address: IPv4Address(10, 77, 0, 2), prefixLength: 24)

  static let help = """
    Usage: netstackd --tap NAME [options]
           netstackd --unix PATH | --unix-listen PATH [options]
           netstackd --netfront [INDEX] [options]
           netstackd --backend socket [--ip ADDR] [options]
           netstackd status --control PATH [--json]

    Runs the netstack Swift TCP/IP stack on a Linux TAP device or a Unix-socket frame link
    (QEMU -netdev stream, passt), or runs the same services on the host's own sockets. The
    host reaches it with ordinary tools: ping, nc, curl.

    Backend and device:
      --backend direct|socket
                             direct (default): the Swift stack over a device;
                             socket: the host kernel's sockets, for development (no device)
      --tap NAME             TAP device to attach to (created if it does not exist)
      --unix PATH            connect to a Unix socket carrying length-prefixed Ethernet frames
                             (QEMU -netdev stream,server=on; passt); exits when the peer leaves
      --unix-listen PATH     listen on PATH for one such peer at a time (QEMU server=off)
      --netfront [INDEX]     in a Xen guest: the Swift netfront driver on vif INDEX (default 0)
                             through /dev/xen/gntalloc, evtchn and xenbus (modules xen-gntalloc,
                             xen-evtchn; Linux's xen-netfront must not have the vif); the MAC
                             and MTU come from xenstore unless --mac or --mtu is given
      --mtu N                largest IPv4 packet, 68-65535 (default 1500); on a TAP also set on
                             the host side
      --mac MAC              the stack's MAC address (default: a random locally administered one)
      --no-offload           on a TAP: no virtio-net header, so no checksum offload or TSO
      --busy-poll USEC       after traffic, keep polling for USEC microseconds before sleeping
                             (0-100000, default 0): lower latency for CPU time (a sleeping
                             loop is woken by an interrupt, slow in a VM)

    Addresses:
      --ip ADDR/PREFIX       the stack's address (default 10.77.0.2/24); with --backend socket,
                             the address services bind to (default 127.0.0.1)
      --gateway ADDR         default gateway, inside the --ip network (default: none)
      --host-ip ADDR/PREFIX  give the host side of the TAP this address and bring it up;
                             'none' leaves the host side alone (default: if it has no
                             address, the first free one in the --ip network; with --dhcp,
                             none)

    DHCP:
      --dhcp                 get the address, prefix, gateway and MTU from a DHCP server on
                             the link instead of --ip; prints the lease and each renewal, and
                             gives the lease back (DHCPRELEASE) on SIGINT/SIGTERM
      --dhcp-server FIRST-LAST
                             serve addresses FIRST to LAST (inside the --ip network) to the
                             hosts on the link, with the stack as their router
      --dhcp-dns ADDR[,ADDR] DNS servers for the --dhcp-server leases (default: none)
      --dhcp-lease SECONDS   lease time of the --dhcp-server leases, 10 or more (default 3600)

    Services:
      --serve LIST           services and ports, e.g. http:80,echo:7 (default
                             http:80,echo:7,discard:9,chargen:19; 'none' for none). echo
                             answers on TCP and UDP; chargen sends until the client closes
      --http-root DIR        serve the files in DIR over HTTP (besides / and /bytes/N)
      --forward tcp:PORT=HOST:PORT
                             relay connections to PORT on the stack to HOST:PORT through the
                             host's sockets, both ways, with half-close (repeatable)
      --echo-client ADDR:PORT[,BYTES]
                             once up, connect out to an echo server through the stack, send
                             BYTES (default 1048576), read them back, print the result

    Limits and timeouts (every table, queue and buffer is bounded; see the README):
      --memory-limit SIZE    the most memory the stack's buffers hold, e.g. 256M or 1G (4M or
                             more; default 256M); under pressure windows shrink and new
                             connections are refused before existing ones suffer
      --max-connections N    TCP connections at once, 1-1000000 (default 65536)
      --tcp-user-timeout SECONDS
                             abort a connection whose peer acknowledges nothing, or keeps its
                             window shut, this long (RFC 5482; 0 for never; default 300)
      --tcp-keepalive IDLE,INTERVAL,COUNT
                             keepalive on the services' connections: probe after IDLE idle
                             seconds, every INTERVAL, give up after COUNT ('off' for none;
                             default 120,20,4)
      --http-header-timeout SECONDS
                             time for a request head to arrive (default 60; then 408)
      --http-keepalive-timeout SECONDS
                             time a kept-alive HTTP connection may wait idle (default 75)
      --http-send-timeout SECONDS
                             time a response may make no progress (default 60; then reset)

    Diagnostics:
      --control PATH         serve status on a Unix socket (mode 0600); read it with
                             'netstackd status --control PATH [--json]'
      --pcap FILE            write every frame in and out to FILE (pcap, for tcpdump/tshark)
      --log-level LEVEL      error, warn, info, debug or trace (default info)
      --impair LIST          fault injection between device and stack, both directions:
                             loss=P%,reorder=P%,duplicate=P%,corrupt=P%,delay=MS (e.g. delay=2ms)
      --impair-seed N        seed of the fault injector (default 1)

      -h, --help             show this help
      --version              show the version

    ICMP echo (ping) is always answered; closed TCP ports answer RST, closed UDP ports ICMP
    port unreachable.
    SIGINT or SIGTERM stops the daemon; it closes the device and prints its counters.
    Exit status: 0 after a clean stop, 1 on a runtime failure, 2 on a bad option or a device
    or address that could not be set up.
    """

  /// Parses `arguments` (without the program name).
  init(arguments: [String]) throws(OptionError) {
    var remaining = arguments[...]
    while let argument = remaining.popFirst() {
      var name = argument
      var inlineValue: String? = nil
      if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
        name = String(argument[..<equals])
        inlineValue = String(argument[argument.index(after: equals)...])
      }
      func value() throws(OptionError) -> String {
        if let inlineValue { return inlineValue }
        guard let next = remaining.popFirst() else { throw OptionError(name, "needs a value") }
        return next
      }
      func setDevice(_ chosen: Device) throws(OptionError) {
        if let device, device != chosen {
          throw OptionError(name, "cannot be combined with \(device.option) (one device at a time)")
        }
        device = chosen
      }
      switch name {
      case "-h", "--help": showHelp = true
      case "--version": showVersion = true
      case "--backend":
        let text = try value()
        guard let chosen = Backend(rawValue: text) else {
          throw OptionError(name, "'\(text)' is not a backend (direct or socket)")
        }
        backend = chosen
      case "--tap":
        let text = try value()
        guard !text.isEmpty else { throw OptionError(name, "needs a device name") }
        try setDevice(.tap(text))
      case "--unix":
        let text = try value()
        guard !text.isEmpty else { throw OptionError(name, "needs a socket path") }
        try setDevice(.unixConnect(text))
      case "--unix-listen":
        let text = try value()
        guard !text.isEmpty else { throw OptionError(name, "needs a socket path") }
        try setDevice(.unixListen(text))
      case "--netfront":
        // The index is optional: take the next argument only if it is a number.
        var text = inlineValue
        if text == nil, let next = remaining.first, Int(next) != nil {
          text = remaining.popFirst()
        }
        guard let index = Int(text ?? "0"), index >= 0, index <= 65535 else {
          throw OptionError(name, "'\(text ?? "")' is not a vif index")
        }
        try setDevice(.netfront(index))
      case "--ip":
        let text = try value()
        if !text.contains("/"), let plain = try? IPv4Address(parsing: text) {
          address = IPv4CIDR(address: plain, prefixLength: 32)
        } else {
          do { address = try IPv4CIDR(parsing: text) } catch { throw OptionError(name, "\(error)") }
        }
      case "--no-offload":
        offloads = false
      case "--busy-poll":
        let text = try value()
        guard let microseconds = Int(text), microseconds >= 0, microseconds <= 100_000 else {
          throw OptionError(name, "'\(text)' is not a number of microseconds from 0 to 100000")
        }
        busyPoll = .microseconds(Int64(microseconds))
      case "--gateway":
        let text = try value()
        do { gateway = try IPv4Address(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
      case "--mac":
        let text = try value()
        do { mac = try MACAddress(parsing: text) } catch { throw OptionError(name, "\(error)") }
      case "--mtu":
        let text = try value()
        guard let number = Int(text), number >= 68, number <= 65535 else {
          throw OptionError(name, "'\(text)' is not an MTU from 68 to 65535")
        }
        mtu = number
      case "--host-ip":
        let text = try value()
        if text == "none" {
          hostAddress = HostAddress.none
        } else {
          do { hostAddress = .address(try IPv4CIDR(parsing: text)) } catch {
            throw OptionError(name, "\(error)")
          }
        }
      case "--pcap":
        let path = try value()
        guard !path.isEmpty else { throw OptionError(name, "needs a file name") }
        pcap = path
      case "--log-level":
        let text = try value()
        guard let level = LogLevel(name: text) else {
          throw OptionError(name, "'\(text)' is not one of error, warn, info, debug, trace")
        }
        logLevel = level
      case "--impair":
        let text = try value()
        do { impairment = try ImpairmentConfiguration(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
      case "--serve":
        services = try ServiceList(parsing: try value())
      case "--http-root":
        let path = try value()
        guard !path.isEmpty else { throw OptionError(name, "needs a directory") }
        httpRoot = path
      case "--forward":
        forwards.append(try Self.parseForward(try value()))
      case "--control":
        let path = try value()
        guard !path.isEmpty else { throw OptionError(name, "needs a socket path") }
        control = path
      case "--echo-client":
        let text = try value()
        let parts = text.split(separator: ",", maxSplits: 1)
        guard let endpoint = parts.first.flatMap({ Self.parseEndpoint(String($0)) }) else {
          throw OptionError(name, "'\(text)' is not ADDR:PORT[,BYTES]")
        }
        var bytes = 1 << 20
        if parts.count == 2 {
          guard let count = Int(parts[1]), count >= 0 else {
            throw OptionError(name, "'\(parts[1])' is not a byte count")
          }
          bytes = count
        }
        echoClient = (endpoint, bytes)
      case "--dhcp":
        dhcp = true
      case "--dhcp-server":
        let text = try value()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = try? IPv4Address(parsing: String(parts[0])),
          let last = try? IPv4Address(parsing: String(parts[1]))
        else { throw OptionError(name, "'\(text)' is not FIRST-LAST (two IPv4 addresses)") }
        guard first <= last else {
          throw OptionError(name, "'\(text)': the first address is after the last")
        }
        dhcpServerPool = first...last
      case "--dhcp-dns":
        let text = try value()
        var servers: [IPv4Address] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
          guard let server = try? IPv4Address(parsing: String(part)), server.isUnicast else {
            throw OptionError(name, "'\(part)' is not a unicast IPv4 address")
          }
          servers.append(server)
        }
        dhcpDNS = servers
      case "--dhcp-lease":
        let text = try value()
        guard let seconds = Int(text), seconds >= 10, seconds < Int(UInt32.max) else {
          throw OptionError(name, "'\(text)' is not a number of seconds from 10 to 4294967294")
        }
        dhcpLeaseSeconds = seconds
      case "--memory-limit":
        let text = try value()
        guard let size = Self.parseSize(text), size >= MemoryBudget.minimumLimit else {
          throw OptionError(name, "'\(text)' is not a size of 4M or more (e.g. 64M, 1G)")
        }
        memoryLimit = size
      case "--max-connections":
        let text = try value()
        guard let number = Int(text), number >= 1, number <= 1_000_000 else {
          throw OptionError(name, "'\(text)' is not a number from 1 to 1000000")
        }
        maximumConnections = number
      case "--tcp-user-timeout":
        let seconds = try Self.parseSeconds(try value(), option: name, allowZero: true)
        userTimeout = seconds == 0 ? nil : .seconds(Int64(seconds))
      case "--tcp-keepalive":
        let text = try value()
        if text == "off" {
          keepalive = nil
        } else {
          let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int($0) ?? 0
          }
          guard parts.count == 3, parts.allSatisfy({ $0 >= 1 && $0 <= 86400 }), parts[2] <= 100
          else {
            throw OptionError(
              name, "'\(text)' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'")
          }
          keepalive = TCPKeepalive(
            idle: .seconds(Int64(parts[0])), interval: .seconds(Int64(parts[1])), probes: parts[2])
        }
      case "--http-header-timeout":
        httpLimits.headerTimeout = .seconds(Int64(try Self.parseSeconds(try value(), option: name)))
      case "--http-keepalive-timeout":
        httpLimits.keepAliveTimeout = .seconds(
          Int64(try Self.parseSeconds(try value(), option: name)))
      case "--http-send-timeout":
        httpLimits.sendTimeout = .seconds(Int64(try Self.parseSeconds(try value(), option: name)))
      case "--impair-seed":
        let text = try value()
        guard let seed = UInt64(text) else { throw OptionError(name, "'\(text)' is not a number") }
        impairmentSeed = seed
      default:
        if argument.hasPrefix("-") {
          throw OptionError(nil, "unknown option '\(argument)'")
        }
        throw OptionError(nil, "unexpected argument '\(argument)'")
      }
    }
    if showHelp || showVersion { return }
    try validate()
  }

  /// A size in bytes: digits with an optional K, M or G (powers of 1024; `KiB`, `MB` and the
  /// like are taken too).
  static func parseSize(_ text: String) -> Int? {
    var digits = Substring(text)
    var unit = 1
    let suffixes: [(String, Int)] = [
      ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1 << 10), ("MB", 1 << 20),
      ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("k", 1 << 10),
      ("m", 1 << 20), ("g", 1 << 30),
    ]
    for (suffix, multiplier) in suffixes where digits.hasSuffix(suffix) {
      digits = digits.dropLast(suffix.count)
      unit = multiplier
      break
    }
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int(digits), number >= 0,
      number <= (1 << 42) / unit
    else { return nil }
    return number * unit
  }

  /// A whole number of seconds, 1 to one day (or 0 with `allowZero`).
  static func parseSeconds(_ text: String, option: String, allowZero: Bool = false)
    throws(OptionError) -> Int
  {
    guard let seconds = Int(text), seconds >= (allowZero ? 0 : 1), seconds <= 86400 else {
      throw OptionError(
        option, "'\(text)' is not a number of seconds from \(allowZero ? 0 : 1) to 86400")
    }
    return seconds
  }

  /// `ADDR:PORT`, or nil.
  static func parseEndpoint(_ text: String) -> SocketAddress? {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let address = try? IPv4Address(parsing: String(parts[0])),
      let port = UInt16(parts[1]), port > 0
    else { return nil }
    return SocketAddress(address, port)
  }

  /// `tcp:PORT=HOST:PORT`.
  static func parseForward(_ text: String) throws(OptionError) -> Forward {
    let problem = "'\(text)' is not tcp:PORT=HOST:PORT"
    guard text.hasPrefix("tcp:") else { throw OptionError("--forward", problem) }
    let rule = text.dropFirst(4).split(separator: "=")
    guard rule.count == 2, let port = UInt16(rule[0]), port > 0,
      let target = parseEndpoint(String(rule[1]))
    else { throw OptionError("--forward", problem) }
    return Forward(port: port, target: target)
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
    if backend == .socket {
      // Nothing of a device applies to the host's own sockets.
      for (given, option) in [
        (device?.option, device?.option ?? ""), (mac.map { _ in "--mac" }, "--mac"),
        (mtu.map { _ in "--mtu" }, "--mtu"), (gateway.map { _ in "--gateway" }, "--gateway"),
        (hostAddress.map { _ in "--host-ip" }, "--host-ip"), (pcap.map { _ in "--pcap" }, "--pcap"),
        (impairment.map { _ in "--impair" }, "--impair"),
      ] where given != nil {
        throw OptionError(option, "has no meaning with --backend socket (there is no device)")
      }
    } else {
      guard let device else {
        throw OptionError(
          "--tap", "is required (or --unix, --unix-listen, --netfront, or --backend socket)")
      }
      if case .tap = device {
      } else if hostAddress != nil {
        throw OptionError("--host-ip", "only applies to a TAP device")
      }
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

/// A bad command line: the option it concerns and what is wrong, as one line.
struct OptionError: Error, CustomStringConvertible {
  var option: String?
  var problem: String

  init(_ option: String?, _ problem: String) {
    self.option = option
    self.problem = problem
  }

  var description: String {
    if let option { return "\(option): \(problem)" }
    return problem
  }
}
