import CLinuxShims
import Glibc
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import Services
import TAP

/// The daemon's entry point: parse the command line, set up the device and the host side,
/// run the stack and its services on one event loop until a signal, print the counters, undo
/// what was set up.
@main
struct Netstackd {
  static func main() {
    // Block SIGINT/SIGTERM before any thread starts, so that they arrive through the loop.
    let signals: SignalReceiver
    do {
      signals = try SignalReceiver()
    } catch {
      fail("\(error)", status: 1)
    }

    let options: DaemonOptions
    do {
      options = try DaemonOptions(arguments: Array(CommandLine.arguments.dropFirst()))
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
    exit(run(options, signals: signals))
  }

  /// Sets everything up, runs until stopped, and returns the exit status.
  static func run(_ options: DaemonOptions, signals: borrowing SignalReceiver) -> Int32 {
    let logger = Logger(level: options.logLevel)
    let tapName = options.tap!
    var files: DirectoryFiles? = nil
    if let root = options.httpRoot {
      guard let directory = DirectoryFiles(root: root) else {
        fail("--http-root: '\(root)' is not a directory", status: 2)
      }
      files = directory
    }

    // The device first: everything after it is undone if a later step fails.
    let device: TAPDevice
    do {
      device = try TAPDevice(name: tapName, mtu: options.mtu)
    } catch {
      fail("--tap \(tapName): \(error)", status: 2)
    }
    var host = HostInterface(name: device.name)
    let hostSummary: String
    let pcap: PcapWriter?
    do {
      hostSummary = try setUpHostSide(&host, options)
      if let path = options.pcap {
        do { pcap = try PcapWriter(path: path) } catch { throw OptionError("--pcap", "\(error)") }
      } else {
        pcap = nil
      }
    } catch {
      host.undo()
      fail("\(error)", status: 2)
    }

    let mac = options.mac ?? MACAddress(rawValue: 0x0200_0000_0000 | (entropy() & 0x00FF_FFFF_FFFF))
    let configuration = DirectStackConfiguration(
      hardwareAddress: mac, mtu: options.mtu, address: options.address, gateway: options.gateway,
      seed: entropy())
    let stack = DirectStack(configuration: configuration, now: MonotonicClock.now())
    let deviceName = device.name
    let createdDevice = device.createdDevice
    let loop: EventLoop
    let runtime: DirectStackRuntime
    do {
      loop = try EventLoop()
      let descriptor = device.fileDescriptor
      runtime = try DirectStackRuntime(
        stack: stack, device: LoopDevice(device, fileDescriptor: descriptor), loop: loop,
        name: "netstack over TAP \(deviceName)", pcap: pcap, impairment: options.impairment,
        impairmentSeed: options.impairmentSeed, logger: logger)
      let signalDescriptor = signals.fileDescriptor
      try loop.register(signalDescriptor, events: UInt32(EPOLLIN.rawValue)) { _ in
        if let signal = SignalReceiver.take(from: signalDescriptor) {
          stopSignal = signal
          loop.stop()
        }
      }
    } catch {
      host.undo()
      fail("\(error)", status: 1)
    }

    startServices(options.services, files: files, on: runtime.api, loop: loop, logger: logger)
    if let (server, bytes) = options.echoClient {
      let api = runtime.api
      Task(executorPreference: loop) {
        do {
          let report = try await EchoClient(server: server, count: bytes).run(on: api)
          print("netstackd: echo client \(server): \(report)")
        } catch {
          print("netstackd: echo client \(server): \(error)")
        }
        fflush(nil)
      }
    }

    let gateway = options.gateway.map { "\($0)" } ?? "none"
    print(
      "netstackd: \(deviceName)\(createdDevice ? " (created)" : ""): mac \(mac), ip \(options.address), gateway \(gateway), mtu \(options.mtu); \(hostSummary)"
    )
    if let impairment = options.impairment, impairment.isActive {
      print("netstackd: impairing frames in both directions (seed \(options.impairmentSeed))")
    }
    if let path = options.pcap { print("netstackd: writing frames to \(path)") }
    print(
      "netstackd: serving icmp echo\(options.services.entries.isEmpty ? "" : ", ")\(options.services.description)\(files != nil ? " (files from \(options.httpRoot!))" : ""); stop with SIGINT or SIGTERM"
    )
    fflush(nil)

    var status: Int32 = 0
    do {
      try loop.run()
    } catch {
      logger.error("\(error)")
      status = 1
    }
    runtime.finish()
    if let signal = stopSignal {
      let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
      print("netstackd: stopping on \(name)")
    }
    print("netstackd: counters:")
    runtime.stack.forEachCounter { group, name, value in
      if value != 0 { print("  \(group).\(name) \(value)") }
    }
    host.undo()
    fflush(nil)
    return status
  }

  /// The signal that stopped the loop (set on the loop thread, read after it returns).
  nonisolated(unsafe) static var stopSignal: Int32?

  /// Starts each service as a task that runs on the stack's loop.
  static func startServices<Stack: NetworkStack>(
    _ services: ServiceList, files: DirectoryFiles?, on stack: Stack, loop: EventLoop,
    logger: Logger
  ) {
    for (kind, port) in services.entries {
      Task(executorPreference: loop) {
        do {
          switch kind {
          case .http: try await HTTPService(port: port, files: files).run(on: stack)
          case .echo:
            async let udp: Void = UDPEchoService(port: port).run(on: stack)
            try await EchoService(port: port).run(on: stack)
            try await udp
          case .discard: try await DiscardService(port: port).run(on: stack)
          case .chargen: try await ChargenService(port: port).run(on: stack)
          }
        } catch {
          logger.error("\(kind.rawValue) on port \(port) stopped: \(error)")
        }
      }
    }
  }

  /// Gives the host side of the TAP its MTU, address and link state, as the options ask.
  static func setUpHostSide(_ host: inout HostInterface, _ options: DaemonOptions)
    throws(OptionError) -> String
  {
    try host.setMTU(options.mtu)
    host.setTransmitQueueLength(10_000)
    switch options.hostAddress {
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
      guard let cidr = options.automaticHostAddress else {
        throw OptionError(
          "--host-ip", "no free host address in \(options.address.network); give one")
      }
      try host.setAddress(cidr)
      try host.bringUp()
      return "host side \(cidr)"
    }
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
