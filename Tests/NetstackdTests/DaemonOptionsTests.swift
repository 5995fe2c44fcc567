import Applications
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import TCP
import Testing

@testable import netstackd

/// The daemon's command line (`DaemonOptions`): every option's value as it is parsed, the
/// defaults, and every bad value's one-line message (which `netstackd` prints after
/// `netstackd: `, with exit status 2; the e2e test `options` checks that part).
struct DaemonOptionsTests {
  /// The options parsed from `arguments`.
  private func parse(_ arguments: [String]) throws(OptionError) -> DaemonOptions {
    try DaemonOptions(arguments: arguments)
  }

  /// The message a command line is refused with, or nil if it is accepted.
  private func refusal(_ arguments: [String]) -> String? {
    do {
      _ = try DaemonOptions(arguments: arguments)
      return nil
    } catch {
      return error.description
    }
  }

  private func cidr(_ text: String) -> IPv4CIDR { try! IPv4CIDR(parsing: text) }
  private func address(_ text: String) -> IPv4Address { try! IPv4Address(parsing: text) }

  // MARK: Defaults

  @Test func theDefaultsOnATAP() throws {
    let options = try parse(["--tap", "tap0"])
    #expect(options.backend == .direct)
    #expect(options.device == .tap("tap0"))
    #expect(options.address == nil)
    #expect(options.stackAddress == cidr("10.77.0.2/24"))
    #expect(options.automaticHostAddress == cidr("10.77.0.1/24"))
    #expect(options.gateway == nil)
    #expect(options.mac == nil)
    #expect(options.mtu == nil)
    #expect(options.offloads)
    #expect(options.busyPoll == .adaptive(maximum: .microseconds(500)))
    #expect(options.hostAddress == nil)
    #expect(options.pcap == nil)
    #expect(options.logLevel == .info)
    #expect(options.impairment == nil)
    #expect(options.impairmentSeed == 1)
    #expect(options.services == ServiceList.all)
    #expect(options.services.description == "http:80,echo:7,discard:9,chargen:19")
    #expect(options.httpRoot == nil)
    #expect(options.echoClient == nil)
    #expect(options.forwards.isEmpty)
    #expect(options.control == nil)
    #expect(options.networkNamespace == nil)
    #expect(!options.dhcp)
    #expect(options.dhcpServerPool == nil)
    #expect(options.dhcpDNS.isEmpty)
    #expect(options.dhcpLeaseSeconds == nil)
    #expect(options.memoryLimit == 256 << 20)
    #expect(options.maximumConnections == 65536)
    #expect(options.userTimeout == .seconds(300))
    #expect(
      options.keepalive == TCPKeepalive(idle: .seconds(120), interval: .seconds(20), probes: 4))
    #expect(options.httpLimits == HTTPServerLimits())
    #expect(!options.showHelp && !options.showVersion)
  }

  @Test func theSocketBackendBindsToLoopbackByDefault() throws {
    let options = try parse(["--backend", "socket"])
    #expect(options.backend == .socket)
    #expect(options.device == nil)
    #expect(options.stackAddress == cidr("127.0.0.1/8"))
  }

  /// `--help` and `--version` need nothing else and check nothing else.
  @Test(arguments: [["--help"], ["-h"], ["--help", "--backend", "socket", "--tap", "x"]])
  func helpNeedsNothingElse(arguments: [String]) throws {
    let options = try parse(arguments)
    #expect(options.showHelp)
  }

  @Test func versionNeedsNothingElse() throws {
    let options = try parse(["--version"])
    #expect(options.showVersion)
    #expect(DaemonOptions.version == "0.2.0")
  }

  /// The help names every option the parser takes.
  @Test func theHelpNamesEveryOption() {
    for option in [
      "--backend", "--tap", "--netns", "--unix", "--unix-listen", "--netfront", "--mtu", "--mac",
      "--no-offload", "--busy-poll", "--ip", "--gateway", "--host-ip", "--ip6", "--gateway6",
      "--host-ip6", "--dhcp",
      "--dhcp-server", "--dhcp-dns", "--dhcp-lease", "--serve", "--http-root", "--forward",
      "--echo-client", "--memory-limit", "--max-connections", "--tcp-user-timeout",
      "--tcp-time-wait", "--tcp-keepalive", "--http-header-timeout", "--http-keepalive-timeout",
      "--http-send-timeout", "--control", "--pcap", "--log-level", "--impair", "--impair-seed",
      "--help", "--version",
    ] {
      #expect(DaemonOptions.help.contains(option), "the help does not name \(option)")
    }
  }

  // MARK: Every option's value

  @Test func devices() throws {
    #expect(try parse(["--unix", "/run/q.sock"]).device == .unixConnect("/run/q.sock"))
    #expect(try parse(["--unix-listen", "/run/q.sock"]).device == .unixListen("/run/q.sock"))
    #expect(try parse(["--netfront"]).device == .netfront(0))
    #expect(try parse(["--netfront", "3"]).device == .netfront(3))
    #expect(try parse(["--netfront=7"]).device == .netfront(7))
    #expect(try parse(["--netfront", "65535"]).device == .netfront(65535))
    // Without a number after it, --netfront takes vif 0 and the next argument is an option.
    let options = try parse(["--netfront", "--mtu", "9000"])
    #expect(options.device == .netfront(0))
    #expect(options.mtu == 9000)
    // The same device twice is one device.
    #expect(try parse(["--tap", "tap0", "--tap", "tap0"]).device == .tap("tap0"))
    #expect(try parse(["--backend", "direct", "--tap", "t"]).backend == .direct)
  }

  /// `--netns PATH` is kept as given (the daemon opens and checks it when it makes the TAP).
  @Test func networkNamespace() throws {
    #expect(
      try parse(["--tap", "tap0", "--netns", "/run/netns/guest"]).networkNamespace
        == "/run/netns/guest")
    #expect(
      try parse(["--netns=/proc/4242/ns/net", "--tap", "t"]).networkNamespace
        == "/proc/4242/ns/net")
    let options = try parse(["--tap", "t", "--netns", "/run/netns/g", "--host-ip", "none"])
    #expect(options.hostAddress == DaemonOptions.HostAddress.none)
    #expect(options.device == .tap("t"))
  }

  @Test func addresses() throws {
    var options = try parse(["--tap", "t", "--ip", "192.168.5.9/16", "--gateway", "192.168.0.1"])
    #expect(options.address == cidr("192.168.5.9/16"))
    #expect(options.gateway == address("192.168.0.1"))
    #expect(options.automaticHostAddress == cidr("192.168.0.1/16"))
    // An address without a prefix is a /32 (no subnet: no automatic host address).
    options = try parse(["--tap", "t", "--ip", "10.1.2.3"])
    #expect(options.address == cidr("10.1.2.3/32"))
    #expect(options.automaticHostAddress == nil)
    // The automatic host address skips the stack's own.
    options = try parse(["--tap", "t", "--ip", "10.9.0.1/24"])
    #expect(options.automaticHostAddress == cidr("10.9.0.2/24"))
    // --ip=VALUE works like --ip VALUE for every option.
    options = try parse(["--tap=t", "--ip=10.8.0.2/24", "--mtu=1400"])
    #expect(options.device == .tap("t"))
    #expect(options.address == cidr("10.8.0.2/24"))
    #expect(options.mtu == 1400)
    #expect(
      try parse(["--backend", "socket", "--ip", "127.0.0.5"]).stackAddress == cidr("127.0.0.5/32"))
  }

  @Test func hostSideOfTheTAP() throws {
    #expect(
      try parse(["--tap", "t", "--host-ip", "none"]).hostAddress == DaemonOptions.HostAddress.none)
    #expect(
      try parse(["--tap", "t", "--host-ip", "10.77.0.9/24"]).hostAddress
        == .address(cidr("10.77.0.9/24")))
  }

  @Test func linkOptions() throws {
    let options = try parse([
      "--tap", "t", "--mac", "02:00:5e:10:20:30", "--mtu", "68", "--no-offload", "--busy-poll",
      "300",
    ])
    #expect(options.mac == MACAddress(0x02, 0x00, 0x5E, 0x10, 0x20, 0x30))
    #expect(options.mtu == 68)
    #expect(!options.offloads)
    #expect(options.busyPoll == .fixed(.microseconds(300)))
    #expect(try parse(["--tap", "t", "--mtu", "65535"]).mtu == 65535)
    #expect(
      try parse(["--tap", "t", "--busy-poll", "100000"]).busyPoll == .fixed(.milliseconds(100)))
    #expect(try parse(["--tap", "t", "--busy-poll", "0"]).busyPoll == .off)
    #expect(
      try parse(["--tap", "t", "--busy-poll", "0", "--busy-poll", "auto"]).busyPoll
        == .adaptive(maximum: .microseconds(500)))
  }

  @Test(arguments: [
    ("error", LogLevel.error), ("warn", .warning), ("warning", .warning), ("info", .info),
    ("debug", .debug), ("trace", .trace),
  ])
  func logLevels(name: String, level: LogLevel) throws {
    #expect(try parse(["--tap", "t", "--log-level", name]).logLevel == level)
  }

  @Test func diagnostics() throws {
    let options = try parse([
      "--tap", "t", "--pcap", "/tmp/x.pcap", "--control", "/run/n.sock", "--impair",
      "loss=3%,reorder=5%,duplicate=1%,corrupt=0.5%,delay=2ms", "--impair-seed", "42",
    ])
    #expect(options.pcap == "/tmp/x.pcap")
    #expect(options.control == "/run/n.sock")
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 30_000
    impairment.reorderPerMillion = 50_000
    impairment.duplicatePerMillion = 10_000
    impairment.corruptPerMillion = 5_000
    impairment.delay = .milliseconds(2)
    #expect(options.impairment == impairment)
    #expect(options.impairmentSeed == 42)
    #expect(
      try parse(["--tap", "t", "--impair-seed", "18446744073709551615"]).impairmentSeed == .max)
  }

  @Test func services() throws {
    var options = try parse(["--tap", "t", "--serve", "http:8080,echo"])
    #expect(options.services.entries.map(\.kind) == [.http, .echo])
    #expect(options.services.entries.map(\.port) == [8080, 7])
    #expect(options.services.description == "http:8080,echo:7")
    options = try parse(["--tap", "t", "--serve", "none"])
    #expect(options.services.entries.isEmpty)
    #expect(options.services.description == "none")
    options = try parse(["--tap", "t", "--serve", "chargen,discard:1,http"])
    #expect(options.services.entries.map(\.port) == [19, 1, 80])
    #expect(try parse(["--tap", "t", "--http-root", "/srv/www"]).httpRoot == "/srv/www")
  }

  @Test func forwardsAndTheEchoClient() throws {
    let options = try parse([
      "--tap", "t", "--serve", "http", "--forward", "tcp:8080=10.1.1.1:80", "--forward",
      "tcp:2222=127.0.0.1:22", "--echo-client", "10.77.0.1:7",
    ])
    #expect(
      options.forwards == [
        .init(port: 8080, target: SocketAddress(address("10.1.1.1"), 80)),
        .init(port: 2222, target: SocketAddress(address("127.0.0.1"), 22)),
      ])
    #expect(options.echoClient?.server == SocketAddress(address("10.77.0.1"), 7))
    #expect(options.echoClient?.bytes == 1 << 20)
    let sized = try parse(["--tap", "t", "--echo-client", "10.77.0.1:7,20000000"])
    #expect(sized.echoClient?.bytes == 20_000_000)
    #expect(try parse(["--tap", "t", "--echo-client", "10.77.0.1:7,0"]).echoClient?.bytes == 0)
  }

  @Test func dhcp() throws {
    var options = try parse(["--tap", "t", "--dhcp"])
    #expect(options.dhcp)
    #expect(options.address == nil)
    options = try parse(["--tap", "t", "--dhcp", "--host-ip", "10.0.0.1/24"])
    #expect(options.hostAddress == .address(cidr("10.0.0.1/24")))
    options = try parse([
      "--tap", "t", "--dhcp-server", "10.77.0.100-10.77.0.199", "--dhcp-dns", "10.77.0.1,9.9.9.9",
      "--dhcp-lease", "10",
    ])
    #expect(options.dhcpServerPool == address("10.77.0.100")...address("10.77.0.199"))
    #expect(options.dhcpDNS == [address("10.77.0.1"), address("9.9.9.9")])
    #expect(options.dhcpLeaseSeconds == 10)
    options = try parse([
      "--tap", "t", "--dhcp-server", "10.77.0.5-10.77.0.5", "--dhcp-lease", "4294967294",
    ])
    #expect(options.dhcpServerPool == address("10.77.0.5")...address("10.77.0.5"))
    #expect(options.dhcpLeaseSeconds == 4_294_967_294)
  }

  @Test func limitsAndTimeouts() throws {
    let options = try parse([
      "--tap", "t", "--memory-limit", "64M", "--max-connections", "1000000", "--tcp-user-timeout",
      "0", "--tcp-keepalive", "off", "--http-header-timeout", "2", "--http-keepalive-timeout",
      "86400", "--http-send-timeout", "1",
    ])
    #expect(options.memoryLimit == 64 << 20)
    #expect(options.maximumConnections == 1_000_000)
    #expect(options.userTimeout == nil)
    #expect(options.keepalive == nil)
    #expect(options.httpLimits.headerTimeout == .seconds(2))
    #expect(options.httpLimits.keepAliveTimeout == .seconds(86400))
    #expect(options.httpLimits.sendTimeout == .seconds(1))
    #expect(options.httpLimits.maximumHeadLength == HTTPServerLimits().maximumHeadLength)
    let other = try parse([
      "--tap", "t", "--tcp-user-timeout", "86400", "--tcp-keepalive", "86400,1,100",
      "--max-connections", "1", "--tcp-time-wait", "1",
    ])
    #expect(options.timeWaitDuration == .seconds(60))
    #expect(other.timeWaitDuration == .seconds(1))
    #expect(other.userTimeout == .seconds(86400))
    #expect(
      other.keepalive == TCPKeepalive(idle: .seconds(86400), interval: .seconds(1), probes: 100))
    #expect(other.maximumConnections == 1)
  }

  static let sizes: [(text: String, bytes: Int)] = [
    ("4M", 4_194_304), ("4096K", 4_194_304), ("4096KiB", 4_194_304), ("4MB", 4_194_304),
    ("64MiB", 67_108_864), ("1G", 1_073_741_824), ("1GiB", 1_073_741_824),
    ("2GB", 2_147_483_648), ("3g", 3_221_225_472), ("5m", 5_242_880), ("8192k", 8_388_608),
    ("4194304", 4_194_304),
  ]

  @Test(arguments: sizes)
  func memorySizes(text: String, bytes: Int) throws {
    #expect(DaemonOptions.parseSize(text) == bytes)
    #expect(try parse(["--tap", "t", "--memory-limit", text]).memoryLimit == bytes)
  }

  /// Not sizes: no digits, a unit it does not know, a minus sign, a fraction, a space, digits
  /// that are not ASCII, more than 4 TiB.
  @Test(arguments: ["", "M", "1T", "-1", "1.5G", "4 M", "٤M", "4097G", "99999999999999999999"])
  func notSizes(text: String) {
    #expect(DaemonOptions.parseSize(text) == nil)
  }

  @Test func theLargestSizeIsFourTebibytes() {
    #expect(DaemonOptions.parseSize("4096") == 4096)
    #expect(DaemonOptions.parseSize("4194304M") == 1 << 42)
    #expect(DaemonOptions.parseSize("4096G") == 1 << 42)
    #expect(DaemonOptions.parseSize("4194305M") == nil)
  }

  // MARK: Every bad value's message

  /// A command line and the one line it is refused with.
  struct Refusal: Sendable, CustomTestStringConvertible {
    let arguments: [String]
    let message: String

    init(_ arguments: [String], _ message: String) {
      self.arguments = arguments
      self.message = message
    }

    var testDescription: String { arguments.joined(separator: " ") }
  }

  static let refusals: [Refusal] = [
    // The command line itself
    Refusal(["--tap", "t", "--bogus"], "unknown option '--bogus'"),
    Refusal(["--tap", "t", "-x"], "unknown option '-x'"),
    Refusal(["--tap", "t", "stray"], "unexpected argument 'stray'"),
    Refusal(["--tap"], "--tap: needs a value"),
    Refusal(["--tap", "t", "--mtu"], "--mtu: needs a value"),
    Refusal(["--tap", "t", "--ip"], "--ip: needs a value"),
    // Backend and device
    Refusal(["--backend", "kernel"], "--backend: 'kernel' is not a backend (direct or socket)"),
    Refusal(["--tap", ""], "--tap: needs a device name"),
    Refusal(["--unix", ""], "--unix: needs a socket path"),
    Refusal(["--unix-listen", ""], "--unix-listen: needs a socket path"),
    Refusal(["--netfront=x"], "--netfront: 'x' is not a vif index"),
    Refusal(["--netfront", "-1"], "--netfront: '-1' is not a vif index"),
    Refusal(["--netfront", "65536"], "--netfront: '65536' is not a vif index"),
    Refusal(["--netfront="], "--netfront: '' is not a vif index"),
    Refusal(
      ["--tap", "t", "--unix", "/s"], "--unix: cannot be combined with --tap (one device at a time)"
    ),
    Refusal(
      ["--unix", "/s", "--tap", "t"], "--tap: cannot be combined with --unix (one device at a time)"
    ),
    Refusal(
      ["--tap", "a", "--tap", "b"], "--tap: cannot be combined with --tap (one device at a time)"),
    Refusal(
      ["--netfront", "--unix-listen", "/s"],
      "--unix-listen: cannot be combined with --netfront (one device at a time)"
    ),
    Refusal([], "--tap: is required (or --unix, --unix-listen, --netfront, or --backend socket)"),
    Refusal(
      ["--mtu", "1500"],
      "--tap: is required (or --unix, --unix-listen, --netfront, or --backend socket)"
    ),
    Refusal(["--tap", "t", "--mtu", "0"], "--mtu: '0' is not an MTU from 68 to 65535"),
    Refusal(["--tap", "t", "--mtu", "67"], "--mtu: '67' is not an MTU from 68 to 65535"),
    Refusal(["--tap", "t", "--mtu", "65536"], "--mtu: '65536' is not an MTU from 68 to 65535"),
    Refusal(["--tap", "t", "--mtu", "abc"], "--mtu: 'abc' is not an MTU from 68 to 65535"),
    Refusal(
      ["--tap", "t", "--busy-poll", "-1"],
      "--busy-poll: '-1' is not auto or a number of microseconds from 0 to 100000"
    ),
    Refusal(
      ["--tap", "t", "--busy-poll", "100001"],
      "--busy-poll: '100001' is not auto or a number of microseconds from 0 to 100000"
    ),
    Refusal(
      ["--tap", "t", "--busy-poll", "soon"],
      "--busy-poll: 'soon' is not auto or a number of microseconds from 0 to 100000"
    ),
    Refusal(
      ["--tap", "t", "--mac", "bad"],
      "--mac: 'bad' is not a MAC address (expected xx:xx:xx:xx:xx:xx)"
    ),
    Refusal(
      ["--tap", "t", "--mac", "02:00:00:00:00"],
      "--mac: '02:00:00:00:00' is not a MAC address (expected xx:xx:xx:xx:xx:xx)"
    ),
    Refusal(
      ["--tap", "t", "--mac", "01:00:5e:00:00:01"],
      "--mac: '01:00:5e:00:00:01' is not a unicast MAC address"
    ),
    Refusal(
      ["--tap", "t", "--mac", "ff:ff:ff:ff:ff:ff"],
      "--mac: 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address"
    ),
    Refusal(
      ["--tap", "t", "--mac", "00:00:00:00:00:00"],
      "--mac: '00:00:00:00:00:00' is not a unicast MAC address"
    ),
    // Addresses
    Refusal(
      ["--tap", "t", "--ip", "bad"],
      "--ip: 'bad' is not an address with a prefix length 0-32 (expected a.b.c.d/n)"
    ),
    Refusal(
      ["--tap", "t", "--ip", "10.77.0.2/33"],
      "--ip: '10.77.0.2/33' is not an address with a prefix length 0-32 (expected a.b.c.d/n)"
    ),
    Refusal(
      ["--tap", "t", "--ip", "10.77.0.256/24"],
      "--ip: '10.77.0.256/24' is not an IPv4 address (expected a.b.c.d)"
    ),
    Refusal(
      ["--tap", "t", "--ip", "10.77.0.0/24"],
      "--ip: '10.77.0.0/24' is the network or broadcast address of its subnet"
    ),
    Refusal(
      ["--tap", "t", "--ip", "10.77.0.255/24"],
      "--ip: '10.77.0.255/24' is the network or broadcast address of its subnet"
    ),
    Refusal(
      ["--tap", "t", "--ip", "224.0.0.1/4"], "--ip: '224.0.0.1/4' is not a unicast host address"),
    Refusal(
      ["--tap", "t", "--ip", "127.0.0.1/8"], "--ip: '127.0.0.1/8' is not a unicast host address"),
    Refusal(
      ["--tap", "t", "--ip", "0.0.0.0/0"], "--ip: '0.0.0.0/0' is not a unicast host address"),
    Refusal(
      ["--tap", "t", "--gateway", "nonsense"],
      "--gateway: 'nonsense' is not an IPv4 address (expected a.b.c.d)"
    ),
    Refusal(
      ["--tap", "t", "--gateway", "10.78.0.1"],
      "--gateway: '10.78.0.1' is not another host inside 10.77.0.0/24"
    ),
    Refusal(
      ["--tap", "t", "--gateway", "10.77.0.2"],
      "--gateway: '10.77.0.2' is not another host inside 10.77.0.0/24"
    ),
    Refusal(
      ["--tap", "t", "--host-ip", "bad"],
      "--host-ip: 'bad' is not an address with a prefix length 0-32 (expected a.b.c.d/n)"
    ),
    Refusal(
      ["--tap", "t", "--host-ip", "10.77.0.2/24"],
      "--host-ip: '10.77.0.2/24' is the stack's own address"
    ),
    Refusal(
      ["--tap", "t", "--host-ip", "10.78.0.1/24"],
      "--host-ip: '10.78.0.1/24' is not a host address inside 10.77.0.0/24"
    ),
    Refusal(
      ["--unix", "/s", "--host-ip", "10.77.0.1/24"], "--host-ip: only applies to a TAP device"),
    Refusal(["--tap", "t", "--netns", ""], "--netns: needs a namespace path"),
    Refusal(["--tap", "t", "--netns"], "--netns: needs a value"),
    Refusal(["--netns", "/run/netns/g"], "--netns: only applies to a TAP device (--tap)"),
    Refusal(
      ["--backend", "socket", "--tap", "t", "--netns", "/run/netns/g"],
      "--tap: has no meaning with --backend socket (there is no device)"),
    Refusal(
      ["--unix", "/s", "--netns", "/run/netns/g"], "--netns: only applies to a TAP device (--tap)"),
    Refusal(
      ["--netfront", "--netns", "/run/netns/g"], "--netns: only applies to a TAP device (--tap)"),
    Refusal(
      ["--backend", "socket", "--netns", "/run/netns/g"],
      "--netns: only applies to a TAP device (--tap)"),
    Refusal(["--netfront", "--host-ip", "none"], "--host-ip: only applies to a TAP device"),
    Refusal(
      ["--tap", "t", "--dhcp", "--host-ip", "224.0.0.1/24"],
      "--host-ip: '224.0.0.1/24' is not a unicast host address"
    ),
    // The socket backend has no device
    Refusal(
      ["--backend", "socket", "--tap", "t"],
      "--tap: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--unix", "/s"],
      "--unix: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--mac", "02:00:00:00:00:01"],
      "--mac: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--mtu", "1500"],
      "--mtu: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--gateway", "127.0.0.2"],
      "--gateway: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--host-ip", "none"],
      "--host-ip: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--pcap", "/tmp/p"],
      "--pcap: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--impair", "loss=1%"],
      "--impair: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--dhcp"],
      "--dhcp: has no meaning with --backend socket (there is no device)"
    ),
    Refusal(
      ["--backend", "socket", "--dhcp-server", "127.0.0.10-127.0.0.20"],
      "--dhcp-server: has no meaning with --backend socket (there is no device)"
    ),
    // DHCP
    Refusal(
      ["--tap", "t", "--dhcp", "--ip", "10.77.0.2/24"],
      "--dhcp: cannot be combined with --ip (DHCP gives the address)"
    ),
    Refusal(
      ["--tap", "t", "--dhcp", "--gateway", "10.77.0.1"],
      "--dhcp: cannot be combined with --gateway (DHCP gives the gateway)"
    ),
    Refusal(
      ["--tap", "t", "--dhcp", "--dhcp-server", "10.77.0.10-10.77.0.20"],
      "--dhcp-server: needs a fixed --ip: it cannot be combined with --dhcp"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.10"],
      "--dhcp-server: '10.77.0.10' is not FIRST-LAST (two IPv4 addresses)"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.10-x"],
      "--dhcp-server: '10.77.0.10-x' is not FIRST-LAST (two IPv4 addresses)"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.20-10.77.0.10"],
      "--dhcp-server: '10.77.0.20-10.77.0.10': the first address is after the last"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.10-10.77.1.20"],
      "--dhcp-server: '10.77.0.10-10.77.1.20' is not a range of host addresses inside 10.77.0.0/24"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.0-10.77.0.20"],
      "--dhcp-server: '10.77.0.0-10.77.0.20' is not a range of host addresses inside 10.77.0.0/24"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.200-10.77.0.255"],
      "--dhcp-server: '10.77.0.200-10.77.0.255' is not a range of host addresses inside 10.77.0.0/24"
    ),
    Refusal(
      ["--tap", "t", "--ip", "10.77.0.2/31", "--dhcp-server", "10.77.0.3-10.77.0.3"],
      "--dhcp-server: '10.77.0.3-10.77.0.3' is not a range of host addresses inside 10.77.0.2/31"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-server", "10.77.0.1-10.77.0.20"],
      "--dhcp-server: '10.77.0.1-10.77.0.20' contains the stack's own address 10.77.0.2"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-dns", "10.77.0.1"], "--dhcp-dns: only applies with --dhcp-server"),
    Refusal(["--tap", "t", "--dhcp-lease", "60"], "--dhcp-lease: only applies with --dhcp-server"),
    Refusal(
      ["--tap", "t", "--dhcp-dns", "10.77.0.1,x"], "--dhcp-dns: 'x' is not a unicast IPv4 address"),
    Refusal(
      ["--tap", "t", "--dhcp-dns", "10.77.0.1,"], "--dhcp-dns: '' is not a unicast IPv4 address"),
    Refusal(
      ["--tap", "t", "--dhcp-dns", "255.255.255.255"],
      "--dhcp-dns: '255.255.255.255' is not a unicast IPv4 address"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-lease", "9"],
      "--dhcp-lease: '9' is not a number of seconds from 10 to 4294967294"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-lease", "4294967295"],
      "--dhcp-lease: '4294967295' is not a number of seconds from 10 to 4294967294"
    ),
    Refusal(
      ["--tap", "t", "--dhcp-lease", "a day"],
      "--dhcp-lease: 'a day' is not a number of seconds from 10 to 4294967294"
    ),
    // Services
    Refusal(
      ["--tap", "t", "--serve", "ftp"],
      "--serve: 'ftp' is not a service (http, echo, discard, chargen, optionally with :PORT)"
    ),
    Refusal(
      ["--tap", "t", "--serve", "http:80:81"],
      "--serve: 'http:80:81' is not a service (http, echo, discard, chargen, optionally with :PORT)"
    ),
    Refusal(
      ["--tap", "t", "--serve", ""],
      "--serve: '' is not a service (http, echo, discard, chargen, optionally with :PORT)"
    ),
    Refusal(["--tap", "t", "--serve", "echo:0"], "--serve: 'echo:0' has no valid port (1-65535)"),
    Refusal(
      ["--tap", "t", "--serve", "echo:65536"], "--serve: 'echo:65536' has no valid port (1-65535)"),
    Refusal(["--tap", "t", "--serve", "http:7,echo"], "--serve: port 7 is given to two services"),
    Refusal(["--tap", "t", "--http-root", ""], "--http-root: needs a directory"),
    Refusal(
      ["--tap", "t", "--forward", "8080=10.0.0.1:80"],
      "--forward: '8080=10.0.0.1:80' is not tcp:PORT=HOST:PORT"
    ),
    Refusal(
      ["--tap", "t", "--forward", "tcp:0=10.0.0.1:80"],
      "--forward: 'tcp:0=10.0.0.1:80' is not tcp:PORT=HOST:PORT"
    ),
    Refusal(
      ["--tap", "t", "--forward", "tcp:8080=10.0.0.1"],
      "--forward: 'tcp:8080=10.0.0.1' is not tcp:PORT=HOST:PORT"
    ),
    Refusal(
      ["--tap", "t", "--forward", "tcp:8080=host:80"],
      "--forward: 'tcp:8080=host:80' is not tcp:PORT=HOST:PORT"
    ),
    Refusal(
      ["--tap", "t", "--forward", "tcp:80=10.0.0.1:80"],
      "--forward: port 80 is already used by a service (see --serve)"
    ),
    Refusal(
      ["--tap", "t", "--forward", "tcp:81=10.0.0.1:80", "--forward", "tcp:81=10.0.0.2:80"],
      "--forward: the same port is forwarded twice"
    ),
    Refusal(
      ["--tap", "t", "--dhcp", "--forward", "tcp:7=10.0.0.1:80"],
      "--forward: port 7 is already used by a service (see --serve)"
    ),
    Refusal(
      ["--tap", "t", "--echo-client", "10.77.0.1"],
      "--echo-client: '10.77.0.1' is not ADDR:PORT[,BYTES]"
    ),
    Refusal(
      ["--tap", "t", "--echo-client", "10.77.0.1:0"],
      "--echo-client: '10.77.0.1:0' is not ADDR:PORT[,BYTES]"
    ),
    Refusal(
      ["--tap", "t", "--echo-client", "10.77.0.1:7,many"],
      "--echo-client: 'many' is not a byte count"
    ),
    Refusal(
      ["--tap", "t", "--echo-client", "10.77.0.1:7,-5"], "--echo-client: '-5' is not a byte count"),
    // Limits and timeouts
    Refusal(
      ["--tap", "t", "--memory-limit", "3M"],
      "--memory-limit: '3M' is not a size of 4M or more (e.g. 64M, 1G)"
    ),
    Refusal(
      ["--tap", "t", "--memory-limit", "lots"],
      "--memory-limit: 'lots' is not a size of 4M or more (e.g. 64M, 1G)"
    ),
    Refusal(
      ["--tap", "t", "--max-connections", "0"],
      "--max-connections: '0' is not a number from 1 to 1000000"
    ),
    Refusal(
      ["--tap", "t", "--max-connections", "1000001"],
      "--max-connections: '1000001' is not a number from 1 to 1000000"
    ),
    Refusal(
      ["--tap", "t", "--tcp-time-wait", "0"],
      "--tcp-time-wait: '0' is not a number of seconds from 1 to 240"
    ),
    Refusal(
      ["--tap", "t", "--tcp-time-wait", "241"],
      "--tcp-time-wait: '241' is not a number of seconds from 1 to 240"
    ),
    Refusal(
      ["--tap", "t", "--tcp-user-timeout", "-1"],
      "--tcp-user-timeout: '-1' is not a number of seconds from 0 to 86400"
    ),
    Refusal(
      ["--tap", "t", "--tcp-user-timeout", "86401"],
      "--tcp-user-timeout: '86401' is not a number of seconds from 0 to 86400"
    ),
    Refusal(
      ["--tap", "t", "--tcp-keepalive", "120,20"],
      "--tcp-keepalive: '120,20' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'"
    ),
    Refusal(
      ["--tap", "t", "--tcp-keepalive", "0,20,4"],
      "--tcp-keepalive: '0,20,4' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'"
    ),
    Refusal(
      ["--tap", "t", "--tcp-keepalive", "120,86401,4"],
      "--tcp-keepalive: '120,86401,4' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'"
    ),
    Refusal(
      ["--tap", "t", "--tcp-keepalive", "120,20,101"],
      "--tcp-keepalive: '120,20,101' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'"
    ),
    Refusal(
      ["--tap", "t", "--tcp-keepalive", "on"],
      "--tcp-keepalive: 'on' is not IDLE,INTERVAL,COUNT (seconds 1-86400, count 1-100) or 'off'"
    ),
    Refusal(
      ["--tap", "t", "--http-header-timeout", "0"],
      "--http-header-timeout: '0' is not a number of seconds from 1 to 86400"
    ),
    Refusal(
      ["--tap", "t", "--http-keepalive-timeout", "86401"],
      "--http-keepalive-timeout: '86401' is not a number of seconds from 1 to 86400"
    ),
    Refusal(
      ["--tap", "t", "--http-send-timeout", "1.5"],
      "--http-send-timeout: '1.5' is not a number of seconds from 1 to 86400"
    ),
    // Diagnostics
    Refusal(["--tap", "t", "--pcap", ""], "--pcap: needs a file name"),
    Refusal(["--tap", "t", "--control", ""], "--control: needs a socket path"),
    Refusal(
      ["--tap", "t", "--log-level", "loud"],
      "--log-level: 'loud' is not one of error, warn, info, debug, trace"
    ),
    Refusal(["--tap", "t", "--impair", "loss"], "--impair: 'loss' is not key=value"),
    Refusal(
      ["--tap", "t", "--impair", "jitter=1ms"],
      "--impair: unknown impairment 'jitter' (expected loss, reorder, duplicate, corrupt, delay)"
    ),
    Refusal(
      ["--tap", "t", "--impair", "loss=3"],
      "--impair: '3' is not a valid value for loss (percentages like 3% or 0.5%, delays like 2ms)"
    ),
    Refusal(
      ["--tap", "t", "--impair", "loss=101%"],
      "--impair: '101%' is not a valid value for loss (percentages like 3% or 0.5%, delays like 2ms)"
    ),
    Refusal(
      ["--tap", "t", "--impair", "delay=2s"],
      "--impair: '2s' is not a valid value for delay (percentages like 3% or 0.5%, delays like 2ms)"
    ),
    Refusal(["--tap", "t", "--impair-seed", "-1"], "--impair-seed: '-1' is not a number"),
    Refusal(
      ["--tap", "t", "--impair-seed", "18446744073709551616"],
      "--impair-seed: '18446744073709551616' is not a number"
    ),
  ]

  @Test(arguments: refusals)
  func aBadValueIsOneLineNamingTheOption(_ case: Refusal) {
    #expect(refusal(`case`.arguments) == `case`.message)
  }

  /// The first bad option is the one reported, and nothing is half-applied: the parser
  /// throws before returning any options.
  @Test func theFirstBadOptionIsTheOneReported() {
    #expect(
      refusal(["--tap", "t", "--mtu", "1", "--mac", "bad"])
        == "--mtu: '1' is not an MTU from 68 to 65535")
  }
}
