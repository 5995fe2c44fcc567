import Applications
import LinuxRuntime
import NetCore
import NetStack
import TAP
import TCP

/// Every option of the daemon, by section: its spelling, its value, its help and how it sets
/// ``DaemonOptions``. The help is made from this table (``help``).
extension DaemonOptions {
  typealias Option = CommandLineOption<DaemonOptions>
  typealias Section = CommandLineOptionSection<DaemonOptions>

  static let table: [Section] = [
    Section(title: "Backend and device", options: deviceOptions),
    Section(title: "Addresses", options: addressOptions),
    Section(title: "DHCP", options: dhcpOptions),
    Section(title: "Services", options: serviceOptions),
    Section(
      title: "Relay (a network for guests on the link)",
      options: relayOptions + relayDNS6Options + flowLifetimeOptions + routerAdvertisementOptions),
    Section(title: "Published ports (the host into the guests)", options: publishOptions),
    Section(
      title: "Limits and timeouts (every table, queue and buffer is bounded; see the README)",
      options: limitOptions),
    Section(title: "Diagnostics", options: diagnosticOptions),
  ]

  static let deviceOptions: [Option] = [
    Option(
      "--backend", value: .required("direct|socket"),
      help: """
        direct (default): the Swift stack over a device;
        socket: the host kernel's sockets, for development (no device)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard let chosen = Backend(rawValue: text) else {
        throw OptionError(name, "'\(text)' is not a backend (direct or socket)")
      }
      options.backend = chosen
    },
    Option(
      "--tap", value: .required("NAME"),
      help: "TAP device to attach to (created if it does not exist)"
    ) { options, value, name throws(OptionError) in
      try options.setDevice(.tap(try nonEmpty(value, name, "needs a device name")), option: name)
    },
    Option(
      "--netns", value: .required("PATH"),
      help: """
        make the TAP device, and set its host side, in the network namespace PATH \
        (/run/netns/NAME or /proc/PID/ns/net); everything else of netstackd stays in its own \
        namespace; needs CAP_SYS_ADMIN in the user namespace owning PATH and in netstackd's own
        """
    ) { options, value, name throws(OptionError) in
      options.networkNamespace = try nonEmpty(value, name, "needs a namespace path")
    },
    Option(
      "--unix", value: .required("PATH"),
      help: """
        connect to a Unix socket carrying length-prefixed Ethernet frames (QEMU -netdev \
        stream,server=on; passt); exits when the peer leaves
        """
    ) { options, value, name throws(OptionError) in
      try options.setDevice(
        .unixConnect(try nonEmpty(value, name, "needs a socket path")), option: name)
    },
    Option(
      "--unix-listen", value: .required("PATH"),
      help: "listen on PATH for one such peer at a time (QEMU server=off)"
    ) { options, value, name throws(OptionError) in
      try options.setDevice(
        .unixListen(try nonEmpty(value, name, "needs a socket path")), option: name)
    },
    Option(
      "--netfront", value: .optional("INDEX", accepts: { Int($0) != nil }),
      help: """
        in a Xen guest: the Swift netfront driver on vif INDEX (default 0) through \
        /dev/xen/gntalloc, evtchn and xenbus (modules xen-gntalloc, xen-evtchn; Linux's \
        xen-netfront must not have the vif); the MAC and MTU come from xenstore unless --mac \
        or --mtu is given
        """
    ) { options, value, name throws(OptionError) in
      guard let index = Int(value ?? "0"), index >= 0, index <= 65535 else {
        throw OptionError(name, "'\(value ?? "")' is not a vif index")
      }
      try options.setDevice(.netfront(index), option: name)
    },
    Option(
      "--mtu", value: .required("N"),
      help: """
        largest IP packet, 68-65535 (default 1500); on a TAP also set on the host side; below \
        1280 the stack has no IPv6 (RFC 8200 §5)
        """
    ) { options, value, name throws(OptionError) in
      options.mtu = try number(value, name, in: 68...65535, "an MTU from 68 to 65535")
    },
    Option(
      "--mac", value: .required("MAC"),
      help: "the stack's MAC address (default: a random locally administered one)"
    ) { options, value, name throws(OptionError) in
      do { options.mac = try MACAddress(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
    },
    Option(
      "--no-offload",
      help:
        "on a TAP: no virtio-net header, so no checksum offload or TSO; on netfront: no TCP segmentation or checksum offload on transmit"
    ) { options, _, _ in options.offloads = false },
    Option(
      "--tap-writes", value: .required("write|io_uring|io_uring-sqpoll"),
      help: """
        on a TAP: how frames are written: one write(2) each (default), io_uring (the frames \
        of a poll with one io_uring_enter), or io_uring-sqpoll (a kernel thread of the \
        daemon takes them from the ring and writes them, on another CPU when there is one; it \
        sleeps after 1 ms without frames); where io_uring is refused, write(2), said at start
        """
    ) { options, value, name throws(OptionError) in
      switch value ?? "" {
      case "write": options.tapWriteMode = .write
      case "io_uring": options.tapWriteMode = .ioURing
      case "io_uring-sqpoll":
        options.tapWriteMode = .ioURingSubmissionThread(
          idle: TAPWriteMode.defaultSubmissionThreadIdle)
      default:
        throw OptionError(name, "expected write, io_uring or io_uring-sqpoll, not '\(value ?? "")'")
      }
    },
    Option(
      "--busy-poll", value: .required("USEC|auto"),
      help: """
        after traffic, keep polling for USEC microseconds before sleeping (1-100000), or \
        not at all (0); auto (default): poll for up to 500 us after traffic, only while \
        frames arrive at most that far apart and the CPU is not busy with other work (a pause \
        of 10 ms to 1 s after a preemption), so an idle or slow link costs no CPU time: lower \
        latency for CPU time (a sleeping loop is woken by an interrupt, slow in a VM); auto \
        does not poll when the daemon may run on one CPU only
        """
    ) { options, value, name throws(OptionError) in
      if value == "auto" {
        options.busyPoll = .adaptive(maximum: BusyPollPolicy.defaultAdaptiveMaximum)
        return
      }
      let microseconds = try number(
        value, name, in: 0...100_000, "auto or a number of microseconds from 0 to 100000")
      options.busyPoll = microseconds == 0 ? .off : .fixed(.microseconds(Int64(microseconds)))
    },
    Option(
      "--busy-poll-share", value: .required("PERCENT"),
      help: """
        with --busy-poll auto: poll at most PERCENT % of the time (1-100; default 100, no \
        cap), sleeping in the rest even while frames keep coming closely spaced: a peer that \
        sends every 200 us otherwise keeps the loop polling all the time
        """
    ) { options, value, name throws(OptionError) in
      let percent = try number(value, name, in: 1...100, "a percentage from 1 to 100")
      options.busyPollShare = Int64(percent)
    },
  ]

  static let addressOptions: [Option] = [
    Option(
      "--ip", value: .required("ADDR/PREFIX"),
      help: """
        the stack's address (default 10.77.0.2/24); with --backend socket, the address \
        services bind to (default 127.0.0.1)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      if !text.contains("/"), let plain = try? IPv4Address(parsing: text) {
        options.address = IPv4CIDR(address: plain, prefixLength: 32)
      } else {
        do { options.address = try IPv4CIDR(parsing: text) } catch {
          throw OptionError(name, "\(error)")
        }
      }
    },
    Option(
      "--gateway", value: .required("ADDR"),
      help: "default gateway, inside the --ip network (default: none)"
    ) { options, value, name throws(OptionError) in
      do { options.gateway = try IPv4Address(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
    },
    Option(
      "--host-ip", value: .required("ADDR/PREFIX"),
      help: """
        give the host side of the TAP this address and bring it up; 'none' leaves the host \
        side alone (default: if it has no address, the first free one in the --ip network; \
        with --dhcp, none)
        """
    ) { options, value, name throws(OptionError) in
      if value == "none" {
        options.hostAddress = HostAddress.none
      } else {
        do { options.hostAddress = .address(try IPv4CIDR(parsing: value ?? "")) } catch {
          throw OptionError(name, "\(error)")
        }
      }
    },
    Option(
      "--ip6", value: .required("ADDR/PREFIX|auto"),
      help: """
        an IPv6 address of the stack (repeatable; a bare ADDR is a /128), used once duplicate \
        address detection finds no other host with it; 'auto' forms addresses from the \
        prefixes routers advertise (SLAAC). The stack always has a link-local address \
        (fe80::/64, as Linux does), with no --ip6 too; it takes routers, the MTU and DNS \
        servers from router advertisements either way. With --backend socket, an IPv6 address \
        services bind to besides --ip (default ::1, when the host has it)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      if text == "auto" {
        options.ipv6Autoconfiguration = true
      } else if !text.contains("/"), let plain = try? IPv6Address(parsing: text) {
        options.ipv6Addresses.append(IPv6CIDR(address: plain, prefixLength: 128))
      } else {
        do { options.ipv6Addresses.append(try IPv6CIDR(parsing: text)) } catch {
          throw OptionError(name, "\(error)")
        }
      }
    },
    Option(
      "--ip6-secret-file", value: .required("PATH"),
      help: """
        keep the secret of the stack's IPv6 interface identifiers (RFC 7217) in PATH, so that \
        its link-local and SLAAC addresses stay the same across restarts (without --mac, the \
        MAC is derived from it too); created with a random secret, mode 0600, if missing \
        (default: a new secret and MAC each run)
        """
    ) { options, value, name throws(OptionError) in
      guard let path = value, !path.isEmpty else { throw OptionError(name, "a path is needed") }
      options.ipv6SecretFile = path
    },
    Option(
      "--gateway6", value: .required("ADDR"),
      help: """
        IPv6 default router: link-local, or inside an --ip6 prefix (default: the routers that \
        advertise themselves)
        """
    ) { options, value, name throws(OptionError) in
      do { options.ipv6Gateway = try IPv6Address(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
    },
    Option(
      "--host-ip6", value: .required("ADDR/PREFIX"),
      help: """
        give the host side of the TAP this IPv6 address too (default: none; the kernel gives \
        it a link-local address of its own)
        """
    ) { options, value, name throws(OptionError) in
      do { options.hostIPv6Address = try IPv6CIDR(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
    },
  ]

  static let dhcpOptions: [Option] = [
    Option(
      "--dhcp",
      help: """
        get the address, prefix, gateway and MTU from a DHCP server on the link instead of \
        --ip; prints the lease and each renewal, and gives the lease back (DHCPRELEASE) on \
        SIGINT/SIGTERM
        """
    ) { options, _, _ in options.dhcp = true },
    Option(
      "--dhcp-server", value: .required("FIRST-LAST"),
      help: """
        serve addresses FIRST to LAST (inside the --ip network) to the hosts on the link, with \
        the stack as their router
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      let parts = text.split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 2, let first = try? IPv4Address(parsing: String(parts[0])),
        let last = try? IPv4Address(parsing: String(parts[1]))
      else { throw OptionError(name, "'\(text)' is not FIRST-LAST (two IPv4 addresses)") }
      guard first <= last else {
        throw OptionError(name, "'\(text)': the first address is after the last")
      }
      options.dhcpServerPool = first...last
    },
    Option(
      "--dhcp-dns", value: .required("ADDR[,ADDR]"),
      help: "DNS servers for the --dhcp-server leases (default: none)"
    ) { options, value, name throws(OptionError) in
      var servers: [IPv4Address] = []
      for part in (value ?? "").split(separator: ",", omittingEmptySubsequences: false) {
        guard let server = try? IPv4Address(parsing: String(part)), server.isUnicast else {
          throw OptionError(name, "'\(part)' is not a unicast IPv4 address")
        }
        servers.append(server)
      }
      options.dhcpDNS = servers
    },
    Option(
      "--dhcp-lease", value: .required("SECONDS"),
      help: "lease time of the --dhcp-server leases, 10 or more (default 3600)"
    ) { options, value, name throws(OptionError) in
      options.dhcpLeaseSeconds = try number(
        value, name, in: 10...Int(UInt32.max) - 1, "a number of seconds from 10 to 4294967294")
    },
  ]

  static let serviceOptions: [Option] = [
    Option(
      "--serve", value: .required("LIST"),
      help: """
        services and ports, e.g. http:80,echo:7 (default http:80,echo:7,discard:9,chargen:19; \
        'none' for none). echo answers on TCP and UDP; chargen sends until the client closes
        """
    ) { options, value, _ throws(OptionError) in
      options.services = try ServiceList(parsing: value ?? "")
    },
    Option(
      "--http-root", value: .required("DIR"),
      help: "serve the files in DIR over HTTP (besides / and /bytes/N)"
    ) { options, value, name throws(OptionError) in
      options.httpRoot = try nonEmpty(value, name, "needs a directory")
    },
    Option(
      "--forward", value: .required("tcp|udp:PORT=HOST:PORT"),
      help: """
        relay connections to PORT on the stack (over IPv4 or IPv6) to HOST:PORT through the \
        host's sockets, both ways, with half-close; an IPv6 HOST in brackets: \
        tcp:8080=[fd00::1]:80; udp: each sender's datagrams to PORT go to HOST:PORT from a \
        host socket of its own, answers back to the sender (flows: --relay-idle-timeout, at \
        most --relay-flows) (repeatable)
        """
    ) { options, value, _ throws(OptionError) in
      let text = value ?? ""
      if text.hasPrefix("udp:") {
        options.udpForwards.append(try parseForward(text, transport: "udp"))
      } else {
        options.forwards.append(try parseForward(text))
      }
    },
    Option(
      "--echo-client", value: .required("ADDR:PORT[,BYTES]"),
      help: """
        once up, connect out to an echo server through the stack, send BYTES (default \
        1048576), read them back, print the result
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      let parts = text.split(separator: ",", maxSplits: 1)
      guard let endpoint = parts.first.flatMap({ parseEndpoint(String($0)) }) else {
        throw OptionError(name, "'\(text)' is not ADDR:PORT[,BYTES]")
      }
      var bytes = 1 << 20
      if parts.count == 2 {
        guard let count = Int(parts[1]), count >= 0 else {
          throw OptionError(name, "'\(parts[1])' is not a byte count")
        }
        bytes = count
      }
      options.echoClient = (endpoint, bytes)
    },
  ]

  static let limitOptions: [Option] = [
    Option(
      "--memory-limit", value: .required("SIZE"),
      help: """
        the most memory the stack's buffers hold, e.g. 256M or 1G (4M or more; default 256M); \
        under pressure windows shrink and new connections are refused before existing ones \
        suffer
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard let size = parseSize(text), size >= MemoryBudget.minimumLimit else {
        throw OptionError(name, "'\(text)' is not a size of 4M or more (e.g. 64M, 1G)")
      }
      options.memoryLimit = size
    },
    Option(
      "--max-connections", value: .required("N"),
      help: "TCP connections at once, 1-1000000 (default 65536)"
    ) { options, value, name throws(OptionError) in
      options.maximumConnections = try number(
        value, name, in: 1...1_000_000, "a number from 1 to 1000000")
    },
    Option(
      "--tcp-user-timeout", value: .required("SECONDS"),
      help: """
        abort a connection whose peer acknowledges nothing, or keeps its window shut, this \
        long (RFC 5482; the relays' host sockets too; 0 for never; default 300)
        """
    ) { options, value, name throws(OptionError) in
      let seconds = try parseSeconds(value ?? "", option: name, allowZero: true)
      options.userTimeout = seconds == 0 ? nil : .seconds(Int64(seconds))
    },
    Option(
      "--tcp-time-wait", value: .required("SECONDS"),
      help: """
        how long a closed connection's record stays in TIME-WAIT, 2 x MSL (RFC 9293 §3.6.1; \
        1-240, default 60 as Linux)
        """
    ) { options, value, name throws(OptionError) in
      options.timeWaitDuration = .seconds(
        Int64(try number(value, name, in: 1...240, "a number of seconds from 1 to 240")))
    },
    Option(
      "--tcp-keepalive", value: .required("IDLE,INTERVAL,COUNT"),
      help: """
        keepalive on the stack's connections (services, relayed and published flows) and \
        the relays' host sockets: probe after IDLE idle seconds, every INTERVAL, give up \
        after COUNT ('off' for none; default 120,20,4)
        """
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      if text == "off" {
        options.keepalive = nil
        return
      }
      let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
        Int($0) ?? 0
      }
      guard parts.count == 3, parts.allSatisfy({ $0 >= 1 && $0 <= 86400 }), parts[2] <= 100 else {
        throw OptionError(
          name, "'\(text)' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'")
      }
      options.keepalive = TCPKeepalive(
        idle: .seconds(Int64(parts[0])), interval: .seconds(Int64(parts[1])), probes: parts[2])
    },
    Option(
      "--http-header-timeout", value: .required("SECONDS"),
      help: "time for a request head to arrive (default 60; then 408)"
    ) { options, value, name throws(OptionError) in
      options.httpLimits.headerTimeout = .seconds(
        Int64(try parseSeconds(value ?? "", option: name)))
    },
    Option(
      "--http-keepalive-timeout", value: .required("SECONDS"),
      help: "time a kept-alive HTTP connection may wait idle (default 75)"
    ) { options, value, name throws(OptionError) in
      options.httpLimits.keepAliveTimeout = .seconds(
        Int64(try parseSeconds(value ?? "", option: name)))
    },
    Option(
      "--http-send-timeout", value: .required("SECONDS"),
      help: "time a response may make no progress (default 60; then reset)"
    ) { options, value, name throws(OptionError) in
      options.httpLimits.sendTimeout = .seconds(Int64(try parseSeconds(value ?? "", option: name)))
    },
  ]

  static let diagnosticOptions: [Option] = [
    Option(
      "--control", value: .required("PATH"),
      help: """
        serve status on a Unix socket (mode 0600); read it with 'netstackd status --control \
        PATH [--json]'
        """
    ) { options, value, name throws(OptionError) in
      options.control = try nonEmpty(value, name, "needs a socket path")
    },
    Option(
      "--pcap", value: .required("FILE"),
      help: "write every frame in and out to FILE (pcap, for tcpdump/tshark)"
    ) { options, value, name throws(OptionError) in
      options.pcap = try nonEmpty(value, name, "needs a file name")
    },
    Option(
      "--log-level", value: .required("LEVEL"),
      help: "error, warn, info, debug or trace (default info)"
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard let level = LogLevel(name: text) else {
        throw OptionError(name, "'\(text)' is not one of error, warn, info, debug, trace")
      }
      options.logLevel = level
    },
    Option(
      "--impair", value: .required("LIST"),
      help: """
        fault injection between device and stack, both directions:
        loss=P%,reorder=P%,duplicate=P%,corrupt=P%,delay=MS (e.g. delay=2ms)
        """
    ) { options, value, name throws(OptionError) in
      do { options.impairment = try ImpairmentConfiguration(parsing: value ?? "") } catch {
        throw OptionError(name, "\(error)")
      }
    },
    Option(
      "--impair-seed", value: .required("N"),
      help: "seed of the fault injector (default 1)"
    ) { options, value, name throws(OptionError) in
      let text = value ?? ""
      guard let seed = UInt64(text) else { throw OptionError(name, "'\(text)' is not a number") }
      options.impairmentSeed = seed
    },
    Option("-h", "--help", help: "show this help") { options, _, _ in options.showHelp = true },
    Option("--version", help: "show the version") { options, _, _ in options.showVersion = true },
  ]

  /// `value`, which must not be empty (`problem` says what is missing).
  private static func nonEmpty(_ value: String?, _ option: String, _ problem: String)
    throws(OptionError) -> String
  {
    guard let value, !value.isEmpty else { throw OptionError(option, problem) }
    return value
  }

  /// `value` as a whole number in `range`; otherwise "'VALUE' is not `what`".
  private static func number(
    _ value: String?, _ option: String, in range: ClosedRange<Int>, _ what: String
  ) throws(OptionError) -> Int {
    let text = value ?? ""
    guard let number = Int(text), range.contains(number) else {
      throw OptionError(option, "'\(text)' is not \(what)")
    }
    return number
  }
}
