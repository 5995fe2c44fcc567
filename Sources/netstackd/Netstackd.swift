import Applications
import CLinuxShims
import DHCP
import Glibc
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import Services
import TAP
import TCP
import UnixSocket

/// The daemon's entry point: parse the command line, set up the device (or not, with the
/// socket backend), run the stack and its services on one event loop until a signal, print
/// the counters, undo what was set up.
@main
struct Netstackd {
  static func main() {
    // A peer that closes while the daemon writes to it (a control client, a Unix-socket peer,
    // a pipe) must be an EPIPE error on that write, never the end of the daemon.
    signal(SIGPIPE, SIG_IGN)
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "status" {
      exit(StatusCommand.run(Array(arguments.dropFirst())))
    }
    if arguments.first == "publish" {
      exit(PublishCommand.run(Array(arguments.dropFirst())))
    }
    // Block SIGINT/SIGTERM before any thread starts, so that they arrive through the loop.
    let signals: SignalReceiver
    do {
      signals = try SignalReceiver()
    } catch {
      fail("\(error)", status: 1)
    }
    let options: DaemonOptions
    do {
      options = try DaemonOptions(arguments: arguments)
    } catch {
      fail("\(error)\nTry 'netstackd --help' for more information.", status: 2)
    }
    if options.showHelp {
      print(DaemonOptions.help)
      exit(0)
    }
    if options.showVersion {
      print("netstackd \(DaemonOptions.version)")
      exit(0)
    }
    exit(Daemon(options: options).run(signals: signals))
  }

  /// Prints `netstackd: message` on standard error and exits with `status`.
  static func fail(_ message: String, status: Int32) -> Never {
    writeStandardError("netstackd: \(message)\n")
    exit(status)
  }

  /// Random bits from the kernel (getrandom), for the stack's seed and a made-up MAC.
  static func entropy() -> UInt64 {
    var value: UInt64 = 0
    _ = getrandom(&value, MemoryLayout<UInt64>.size, 0)
    return value
  }
}

/// One run of the daemon.
final class Daemon {
  let options: DaemonOptions
  let logger: Logger
  let started = MonotonicClock.now()
  /// The signal that stopped the loop.
  var stopSignal: Int32?
  /// Undone on the way out: the host side of a TAP, the control socket.
  var host: HostInterface?
  var control: ControlServer?
  /// `--netns`: where the TAP and its host side live (nil: the daemon's own namespace).
  var namespace: NetworkNamespace?
  /// The socket file of `--unix-listen`, removed on exit.
  var listeningSocket: String?
  /// The socket backend's services: TCP on the loop, UDP as tasks.
  var socketHost: SocketServiceHost?
  var socketDatagramTasks: [DatagramServiceTask] = []
  /// The capture of `--pcap`, flushed at exit.
  var pcap: PcapWriter?
  /// Closes a device that has an orderly way out (netfront's xenbus Closing/Closed).
  var closeDevice: (() -> Void)?
  /// The event loop, for its counters (how often it slept, polled and was woken).
  var eventLoop: EventLoop?
  /// The device's own counters, when it keeps any beside the stack's (the Unix-socket link).
  var deviceCounters: (() -> [(group: String, name: String, value: UInt64)])?
  /// `--relay`: the host sides of its ping and DNS.
  var relayEcho: HostEchoRelay?
  var relayUDP: HostUDPRelay?
  var relayTCP: HostTCPRelay?
  var relayDNS: RelayDNSService?
  /// `--publish` and `netstackd publish`: the published ports; `--forward udp:`'s forwarders.
  var published: PublishedPortTable?
  var udpForwarders: [UDPFlowForwarder<DirectUDPSocket, SocketNetworkStack>] = []

  /// The secret of the IPv6 interface identifiers from `--ip6-secret-file`, if given.
  var ipv6StableSecret: (UInt64, UInt64)?

  init(options: DaemonOptions) {
    self.options = options
    logger = Logger(level: options.logLevel)
  }

  /// Sets everything up, runs until stopped, and returns the exit status.
  func run(signals: borrowing SignalReceiver) -> Int32 {
    var files: DirectoryFiles? = nil
    if let root = options.httpRoot {
      guard let directory = DirectoryFiles(root: root) else {
        Netstackd.fail("--http-root: '\(root)' is not a directory", status: 2)
      }
      files = directory
    }
    if let path = options.ipv6SecretFile {
      do { ipv6StableSecret = try IPv6SecretFile.loadOrCreate(path: path) } catch {
        Netstackd.fail("\(error)", status: 2)
      }
    }
    let loop: EventLoop
    do {
      loop = try EventLoop()
      var busyPoll = options.busyPoll
      if case .adaptive = busyPoll, UsableProcessors.count < 2 {
        // Polling waits for work another CPU produces; with one, it only takes the CPU from
        // the peers (in a one-vCPU Xen guest it cost a fifth of netfront's bulk throughput).
        busyPoll = .off
        print(
          "netstackd: busy polling off: this process may run on one CPU only (--busy-poll USEC polls all the same)"
        )
      }
      loop.busyPoll = BusyPollPolicy(busyPoll, maximumShare: options.busyPollShare)
      eventLoop = loop
      let signalDescriptor = signals.fileDescriptor
      try loop.register(signalDescriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
        if let signal = SignalReceiver.take(from: signalDescriptor) {
          stopSignal = signal
          loop.stop()
        }
      }
    } catch {
      Netstackd.fail("\(error)", status: 1)
    }
    let bindAddresses = socketBindAddresses
    let sockets = SocketNetworkStack(loop: loop, bindAddresses: bindAddresses)
    let boundTo = bindAddresses.map { "\($0)" }.joined(separator: ", ")

    switch options.backend {
    case .socket:
      setUpControl(loop: loop) { [options] json in
        var report = StatusReport(
          socketBackendBoundTo: "\(options.stackAddress.address)",
          ipv6: bindAddresses.compactMap { $0.ipv6.map { "\($0)" } },
          services: options.services.description,
          uptime: MonotonicClock.now() - self.started)
        report.busyPoll = loop.busyPoll.description
        report.counters += self.daemonCounters()
        return json ? report.json : report.text
      }
      print(
        "netstackd: socket backend: services bind to \(boundTo) (the host kernel answers ping)"
      )
      let host = SocketServiceHost(
        loop: loop, bindAddresses: bindAddresses,
        budget: MemoryBudget(limit: options.memoryLimit))
      socketHost = host
      loop.deadline = { host.nextDeadline }
      loop.turn = { now in host.runTimers(now: now) }
      for (kind, port) in options.services.entries {
        let service = kind.tcpService {
          makeHTTPServer(platform: sockets.stackDescription, files: files, budget: host.budget)
        }
        do {
          try host.start(service, port: port)
        } catch {
          Netstackd.fail("--serve \(kind.rawValue):\(port): \(error)", status: 2)
        }
        if let udpService = kind.udpService(port: port) {
          socketDatagramTasks.append(DatagramServiceTask(udpService))
        }
      }
      startDatagramTasks(on: sockets, loop: loop)
      start(on: sockets, sockets: sockets, loop: loop)
      return serve(loop: loop, counters: nil)

    case .direct:
      let runtime: DirectStackRuntime
      switch options.device! {
      case .tap(let name): runtime = openTAP(name, loop: loop)
      case .unixConnect(let path): runtime = openUnixSocket(.connect(path), loop: loop)
      case .unixListen(let path): runtime = openUnixSocket(.listen(path), loop: loop)
      case .netfront(let index): runtime = openNetfront(index, loop: loop)
      }
      setUpControl(loop: loop) { [options] json in
        var report = StatusReport(
          stack: runtime.stack, device: runtime.name, services: options.services.description,
          uptime: MonotonicClock.now() - self.started, now: MonotonicClock.now())
        report.networkNamespace = options.networkNamespace
        report.busyPoll = loop.busyPoll.description
        report.relay = self.relayStatus(runtime.stack, now: MonotonicClock.now())
        report.published = self.published.map {
          StatusReport.PublishStatus($0, now: MonotonicClock.now())
        }
        report.counters += self.daemonCounters()
        return json ? report.json : report.text
      }
      runtime.stack.services.keepalive = options.keepalive
      let (budget, platform) = (runtime.stack.budget, runtime.name)
      for (kind, port) in options.services.entries {
        do throws(ServiceStartError) {
          try runtime.stack.startService(kind, port: port) {
            makeHTTPServer(platform: platform, files: files, budget: budget)
          }
        } catch {
          Netstackd.fail("--serve \(kind.rawValue):\(port): \(error)", status: 2)
        }
      }
      if options.relay { startRelay(on: runtime) }
      startPublishing(on: runtime, loop: loop)
      startUDPForwards(on: runtime, loop: loop)
      start(on: runtime.api, sockets: sockets, loop: loop)
      return serve(loop: loop, counters: runtime)
    }
  }

  // MARK: Devices

  /// The direct stack's configuration from the options.
  func stackConfiguration(mtu: Int, mac: MACAddress, offloads: Bool) -> DirectStackConfiguration {
    var tcp = TCPConfiguration()
    tcp.userTimeout = options.userTimeout
    tcp.timeWaitDuration = options.timeWaitDuration
    tcp.keepalive = options.keepalive  // the relays' and published flows' connections too
    tcp.maximumConnections = options.maximumConnections
    var configuration = DirectStackConfiguration(
      hardwareAddress: mac, mtu: mtu, address: options.dhcp ? nil : options.stackAddress,
      gateway: options.gateway, seed: Netstackd.entropy(), segmentationOffload: offloads, tcp: tcp,
      memoryLimit: options.memoryLimit)
    configuration.ipv6Addresses = options.ipv6Addresses
    configuration.ipv6Gateway = options.ipv6Gateway
    configuration.ipv6Autoconfiguration = options.ipv6Autoconfiguration
    configuration.ipv6StableSecret = ipv6StableSecret
    configuration.ipv6RouterAdvertisement = options.routerAdvertisement(mtu: mtu)
    return configuration
  }

  /// What the socket backend's services bind to: `--ip`, and each `--ip6`, or `::1` without
  /// one when the host has it (not where IPv6 is disabled). The direct backend's host sockets
  /// bind nothing (forwards connect out), so the list serves only the socket backend.
  var socketBindAddresses: [IPAddress] {
    let ipv4: [IPAddress] = [.v4(options.stackAddress.address)]
    guard options.backend == .socket else { return ipv4 }
    guard options.ipv6Addresses.isEmpty else {
      return ipv4 + options.ipv6Addresses.map { .v6($0.address) }
    }
    return SocketNetworkStack.hostHas(.v6(.loopback)) ? ipv4 + [.v6(.loopback)] : ipv4
  }

  /// The HTTP server of `--serve http`, for the stack named `platform`.
  func makeHTTPServer(platform: String, files: DirectoryFiles?, budget: MemoryBudget)
    -> HTTPServer
  {
    HTTPServer(
      platform: platform, files: files?.httpFiles, limits: options.httpLimits, budget: budget)
  }

  /// "ip ADDR, gateway ADDR" for the startup line, or how the address will come.
  var addressSummary: String {
    if options.dhcp { return "ip by DHCP" + ipv6Summary }
    var summary = "ip \(options.stackAddress), gateway \(options.gateway.map { "\($0)" } ?? "none")"
    if let pool = options.dhcpServerPool {
      summary += ", serving DHCP \(pool.lowerBound)-\(pool.upperBound)"
    }
    return summary + ipv6Summary
  }

  /// ", ip6 ADDR/PREFIX,...,auto, gateway6 ADDR" for the startup line (the link-local address
  /// always comes besides).
  var ipv6Summary: String {
    var parts = options.ipv6Addresses.map { "\($0)" }
    if options.ipv6Autoconfiguration { parts.append("auto") }
    var summary = ", ip6 \(parts.isEmpty ? "link-local only" : parts.joined(separator: ","))"
    if let gateway = options.ipv6Gateway { summary += ", gateway6 \(gateway)" }
    if options.routerAdvertising == true, let prefix = options.advertisedPrefix {
      summary += ", advertising \(prefix)"
      if let dns = options.advertisedDNSAddress { summary += " with DNS \(dns)" }
    }
    return summary
  }

  /// `--mac`; else, with `--ip6-secret-file`, one derived from the secret (the stable
  /// identifiers hash the MAC too, RFC 7217 §5's Net_Iface, so it must not change either);
  /// else a random one, locally administered.
  var chosenMAC: MACAddress {
    if let mac = options.mac { return mac }
    if let secret = ipv6StableSecret { return IPv6SecretFile.hardwareAddress(for: secret) }
    return MACAddress(rawValue: 0x0200_0000_0000 | (Netstackd.entropy() & 0x00FF_FFFF_FFFF))
  }

  /// Opens the TAP device, configures its host side, and builds the stack over it. With
  /// `--netns`, both happen on a thread inside that namespace (``NetworkNamespace``).
  func openTAP(_ name: String, loop: EventLoop) -> DirectStackRuntime {
    let mtu = options.mtu ?? 1500
    if let path = options.networkNamespace {
      do {
        namespace = try NetworkNamespace(path: path)
      } catch {
        Netstackd.fail("\(error)", status: 2)
      }
    }
    var opened: TAPDevice? = nil
    var host: HostInterface? = nil
    var hostSummary = ""
    var failure: String? = nil
    do {
      try inDeviceNamespace {
        let device: TAPDevice
        do {
          device = try TAPDevice(
            name: name, mtu: mtu, offloads: options.offloads, writeMode: options.tapWriteMode)
        } catch {
          failure = "--tap \(name): \(error)"
          return
        }
        var configured = HostInterface(name: device.name)
        do {
          hostSummary = try setUpHostSide(&configured, mtu: mtu)
        } catch {
          configured.undo()
          failure = "\(error)"
          return
        }
        host = configured
        opened = consume device
      }
    } catch {
      Netstackd.fail("\(error)", status: 2)
    }
    guard let device = opened.take() else {
      Netstackd.fail(failure ?? "--tap \(name): not opened", status: 2)
    }
    self.host = host
    let deviceName = device.name
    let created = device.createdDevice
    let mac = chosenMAC
    let descriptor = device.fileDescriptor
    let offloads = device.offloads
    if let refusal = device.writeModeRefusal {
      print("netstackd: --tap-writes \(options.tapWriteMode): \(refusal); writing with write(2)")
    } else if device.writeMode != .write {
      print("netstackd: \(deviceName): frames written through \(device.writeMode)")
    }
    let (runtime, loopDevice) = makeRuntime(
      device, fileDescriptor: descriptor, name: "netstack over TAP \(deviceName)", mtu: mtu,
      mac: mac, offloads: offloads, loop: loop)
    deviceCounters = {
      loopDevice.withDevice { chain in
        [
          ("tap", "frames_read", chain.inner.inner.inner.framesRead),
          ("tap", "frames_written", chain.inner.inner.inner.framesWritten),
          ("tap", "transmit_errors", chain.inner.inner.inner.transmitErrors),
          ("tap", "ring_submissions", chain.inner.inner.inner.ringSubmissions),
        ]
      }
    }
    let place = namespace.map { " in network namespace \($0.path)" } ?? ""
    print(
      "netstackd: \(deviceName)\(created ? " (created)" : "")\(place): mac \(mac), \(addressSummary), mtu \(mtu); \(hostSummary)"
    )
    return runtime
  }

  /// Runs `body` in the namespace of the TAP's host side: `--netns`'s, on a thread of its
  /// own, or the daemon's, right here.
  func inDeviceNamespace(_ body: () -> Void) throws(OptionError) {
    if let namespace {
      try namespace.run(body)
    } else {
      body()
    }
  }

  /// Connects to (or listens on) a Unix socket carrying frames, and builds the stack over it.
  func openUnixSocket(_ mode: UnixSocketDevice.Mode, loop: EventLoop) -> DirectStackRuntime {
    let mtu = options.mtu ?? 1500
    let option: String
    let path: String
    switch mode {
    case .connect(let value): (option, path) = ("--unix", value)
    case .listen(let value): (option, path) = ("--unix-listen", value)
    }
    let device: UnixSocketDevice
    do {
      device = try UnixSocketDevice(mode: mode, mtu: mtu)
    } catch {
      Netstackd.fail("\(option) \(path): \(error)", status: 2)
    }
    if case .listen = mode { listeningSocket = path }
    let mac = chosenMAC
    let descriptor = device.fileDescriptor
    let (runtime, loopDevice) = makeRuntime(
      device, fileDescriptor: descriptor, name: "netstack over Unix socket \(path)", mtu: mtu,
      mac: mac, offloads: false, loop: loop)
    deviceCounters = {
      loopDevice.withDevice { chain in
        chain.inner.inner.inner.counters.all.map { ("unix_socket", $0.name, $0.value) }
      }
    }
    let verb = if case .connect = mode { "connected to" } else { "listening on" }
    print(
      "netstackd: \(verb) \(path): mac \(mac), \(addressSummary), mtu \(mtu)"
    )
    return runtime
  }

  /// The stack over a device wrapped as the options ask (``DeviceChain``: the fault
  /// injector, the tracer, the pcap capture), on the loop; returns the runtime and the device
  /// (for what a driver offers beyond frames: counters, an orderly close).
  func makeRuntime<Raw: NetworkDevice & ~Copyable>(
    _ device: consuming Raw, fileDescriptor: Int32, name: String, mtu: Int, mac: MACAddress,
    offloads: Bool, loop: EventLoop
  ) -> (DirectStackRuntime, LoopDevice<DeviceChain<Raw>>) {
    if let path = options.pcap {
      do {
        pcap = try PcapWriter(path: path)
      } catch {
        undo()
        Netstackd.fail("--pcap: \(error)", status: 2)
      }
    }
    let logger = self.logger
    let trace: ((String) -> Void)? =
      logger.enabled(.trace) ? { line in logger.trace(line) } : nil
    let chain = ImpairedDevice(
      wrapping: TracingDevice(wrapping: PcapDevice(wrapping: device, sink: pcap), trace: trace),
      configuration: options.impairment ?? ImpairmentConfiguration(),
      seed: options.impairmentSeed)
    let loopDevice = LoopDevice(chain, fileDescriptor: fileDescriptor)
    var stack = DirectStack(
      configuration: stackConfiguration(mtu: mtu, mac: mac, offloads: offloads),
      now: MonotonicClock.now())
    startDHCP(on: &stack, mac: mac)
    do {
      let runtime = try DirectStackRuntime(
        stack: stack, device: loopDevice, loop: loop, name: name, logger: logger)
      runtime.onDHCPEvent = { event in Daemon.report(event) }
      return (runtime, loopDevice)
    } catch {
      undo()
      Netstackd.fail("\(error)", status: 1)
    }
  }

  /// Starts the DHCP client (`--dhcp`) and server (`--dhcp-server`) the options ask for.
  func startDHCP(on stack: inout DirectStack, mac: MACAddress) {
    do {
      if options.dhcp {
        var client = DHCPClient.Configuration(hardwareAddress: mac)
        client.hostName = Array("netstack".utf8)
        client.seed = Netstackd.entropy()
        try stack.startDHCPClient(client, now: MonotonicClock.now())
      }
      if let pool = options.dhcpServerPool {
        var server = DHCPServer.Configuration(address: options.stackAddress, pool: pool)
        server.domainNameServers = options.dhcpDNS
        if let seconds = options.dhcpLeaseSeconds { server.leaseTime = .seconds(Int64(seconds)) }
        try stack.startDHCPServer(server)
      }
    } catch {
      undo()
      Netstackd.fail("dhcp: cannot bind its UDP port: \(error)", status: 1)
    }
  }

  /// Prints what the DHCP client did: the lease obtained, each renewal, its loss.
  static func report(_ event: DHCPClientAction) {
    switch event {
    case .bound(let lease):
      print("netstackd: dhcp: bound \(lease.address) \(describe(lease))")
    case .renewed(let lease):
      print("netstackd: dhcp: renewed \(lease.address) \(describe(lease))")
    case .lost(let lease):
      print("netstackd: dhcp: lost \(lease.address) from server \(lease.server); address withdrawn")
    case .released(let lease):
      print("netstackd: dhcp: released \(lease.address.address) to server \(lease.server)")
    case .declined(let address):
      print("netstackd: dhcp: \(address) is in use by another host (ARP); declined it")
    case .send, .probe:
      return
    }
    fflush(nil)
  }

  /// "from server S, gateway G, dns D, mtu M, lease N s (renew in T1 s, rebind in T2 s)".
  static func describe(_ lease: DHCPLease) -> String {
    var text = "from server \(lease.server), gateway \(lease.router.map { "\($0)" } ?? "none")"
    if !lease.domainNameServers.isEmpty {
      text += ", dns \(lease.domainNameServers.map { "\($0)" }.joined(separator: ","))"
    }
    if let domain = lease.domainName {
      text += ", domain \(String(decoding: domain, as: UTF8.self))"
    }
    if let mtu = lease.mtu { text += ", mtu \(mtu)" }
    if let duration = lease.duration, let t1 = lease.renewalTime, let t2 = lease.rebindingTime {
      text += ", lease \(duration.seconds) s (renew in \(t1.seconds) s, rebind in \(t2.seconds) s)"
    } else {
      text += ", lease infinite"
    }
    return text
  }

  /// Gives the host side of the TAP its MTU, address and link state, as the options ask.
  func setUpHostSide(_ host: inout HostInterface, mtu: Int) throws(OptionError) -> String {
    try host.setMTU(mtu)
    host.setTransmitQueueLength(10_000)
    var summary = try setUpHostIPv4(&host)
    if let cidr = options.hostIPv6Address {
      try host.addIPv6Address(cidr)
      try host.bringUp()
      summary += ", \(cidr)"
    }
    return summary
  }

  /// The host side's IPv4 address and link state, as `--host-ip` asks.
  func setUpHostIPv4(_ host: inout HostInterface) throws(OptionError) -> String {
    switch options.hostAddress ?? .automatic {
    case .none:
      return "host side left as it is"
    case .address(let cidr):
      try host.setAddress(cidr)
      try host.bringUp()
      return "host side \(cidr)"
    case .automatic:
      if let existing = host.currentAddress {
        try host.bringUp()
        return "host side keeps its address \(existing)"
      }
      if options.dhcp {
        try host.bringUp()
        return "host side up without an address"
      }
      guard let cidr = options.automaticHostAddress else {
        throw OptionError(
          "--host-ip", "no free host address in \(options.stackAddress.network); give one")
      }
      try host.setAddress(cidr)
      try host.bringUp()
      return "host side \(cidr)"
    }
  }

  // MARK: Services and the loop

  func setUpControl(loop: EventLoop, report: @escaping (Bool) -> String) {
    guard let path = options.control else { return }
    do {
      control = try ControlServer(path: path, loop: loop, report: report)
    } catch {
      undo()
      Netstackd.fail("\(error)", status: 2)
    }
  }

  /// Starts the socket backend's UDP services as tasks on the loop, over host sockets (on
  /// the direct backend the stack runs them itself: `UDPServiceHost`).
  func startDatagramTasks(on sockets: SocketNetworkStack, loop: EventLoop) {
    let logger = self.logger
    for task in socketDatagramTasks {
      Task(executorPreference: loop) {
        do {
          try await task.run(on: sockets)
        } catch {
          logger.error("udp \(task.service.name) on port \(task.service.port) stopped: \(error)")
        }
      }
    }
  }

  /// How long `--echo-client` retries a connect that found no source address (its IPv6
  /// address still tentative during duplicate address detection) before reporting it.
  static let echoClientSourceWait = Duration.seconds(5)

  /// Starts the forwards and the echo client as tasks on the loop (the services run on the
  /// loop without tasks: `TCPServiceHost` and `UDPServiceHost`, `SocketServiceHost`).
  func start<Stack: NetworkStack>(on stack: Stack, sockets: SocketNetworkStack, loop: EventLoop) {
    let logger = self.logger
    for forward in options.forwards {
      Task(executorPreference: loop) {
        do {
          try await ForwardService(port: forward.port, target: forward.target).run(
            front: stack, back: sockets)
        } catch {
          logger.error("forward of port \(forward.port) stopped: \(error)")
        }
      }
    }
    if let (server, bytes) = options.echoClient {
      Task(executorPreference: loop) {
        // Until duplicate address detection has passed (about a second), an IPv6 address is
        // tentative and the stack has no source address: "no route" then means "not yet".
        let patience = ContinuousClock.now + Daemon.echoClientSourceWait
        while true {
          do {
            let report = try await EchoClient(server: server, count: bytes).run(on: stack)
            print("netstackd: echo client \(server): \(report)")
          } catch NetworkError.noRoute where ContinuousClock.now < patience {
            try? await Task.sleep(for: .milliseconds(100))
            continue
          } catch {
            print("netstackd: echo client \(server): \(error)")
          }
          break
        }
        fflush(nil)
      }
    }
    var summary = "netstackd: serving "
    summary += options.backend == .direct ? "icmp echo" : "tcp/udp"
    if !options.services.entries.isEmpty { summary += ", \(options.services.description)" }
    if let root = options.httpRoot { summary += " (files from \(root))" }
    for forward in options.forwards {
      summary += "; forwarding tcp:\(forward.port) to \(forward.target)"
    }
    for forward in options.udpForwards {
      summary += "; forwarding udp:\(forward.port) to \(forward.target)"
    }
    for spec in options.publishes { summary += "; publishing \(spec)" }
    if let path = options.control { summary += "; control socket \(path)" }
    if let path = options.pcap { summary += "; writing frames to \(path)" }
    if let impairment = options.impairment, impairment.isActive {
      summary += "; impairing frames both ways (seed \(options.impairmentSeed))"
    }
    print(summary + "; stop with SIGINT or SIGTERM")
    fflush(nil)
  }

  /// Runs the loop until a signal or a fatal device error; prints the counters; undoes the
  /// set-up.
  func serve(loop: EventLoop, counters runtime: DirectStackRuntime?) -> Int32 {
    var status: Int32 = 0
    do {
      try loop.run()
    } catch {
      logger.error("\(error)")
      status = 1
    }
    if let runtime {
      if !runtime.failed {
        runtime.ceaseRouterAdvertising()
        runtime.releaseDHCPLease()
      }
      pcap?.flush()
      if runtime.failed { status = 1 }
    }
    if let signal = stopSignal {
      let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
      print("netstackd: stopping on \(name)")
    }
    if runtime != nil || control != nil || socketHost != nil {
      print("netstackd: counters:")
      if let runtime { CounterReport.forEachLine(of: runtime.stack) { print($0) } }
      for (group, name, value) in daemonCounters() where value != 0 {
        print(CounterReport.line(group: group, name: name, value: value))
      }
    }
    undo()
    fflush(nil)
    return status
  }

  /// The counters the daemon keeps beside the stack's: the device's and the control socket's.
  func daemonCounters() -> [(group: String, name: String, value: UInt64)] {
    var counters = deviceCounters?() ?? []
    eventLoop?.counters.forEachCounter { name, value in counters.append(("loop", name, value)) }
    counters += relayCounters()
    counters += udpForwardCounters()
    for (name, value) in control?.counters.all ?? [] { counters.append(("control", name, value)) }
    socketHost?.forEachCounter { group, name, value in
      counters.append(("\(group)", "\(name)", value))
    }
    let udpEcho = socketDatagramTasks.compactMap(\.service.udpEchoCounters)
    if !udpEcho.isEmpty {
      udpEcho.reduce(UDPEchoCounters(), +).forEachCounter { name, value in
        counters.append(("\(UDPEchoCounters.groupName)", "\(name)", value))
      }
    }
    return counters
  }

  /// Puts back what the daemon changed on the host.
  func undo() {
    published?.shutdown()
    published = nil
    relayEcho?.shutdown()
    relayEcho = nil
    relayUDP?.shutdown()
    relayUDP = nil
    relayTCP?.shutdown()
    relayTCP = nil
    relayDNS?.upstream.shutdown()
    relayDNS = nil
    closeDevice?()
    closeDevice = nil
    if var host {
      do {
        try inDeviceNamespace { host.undo() }
      } catch {
        logger.error("cannot undo the host side of \(host.name): \(error)")
      }
      self.host = nil
    }
    control?.shutdown()
    control = nil
    if let path = listeningSocket {
      unlink(path)
      listeningSocket = nil
    }
  }
}
