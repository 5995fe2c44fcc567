import Glibc
import LinuxRuntime
import NetCore
import NetStack
import NetworkAPI
import TAP

/// The example's entry point: the Swift stack on a TAP device, with the "hello" service of
/// this package on one TCP port, until SIGINT or SIGTERM.
///
/// What it builds, in order: a `TAPDevice` (the driver), a `DirectStack` with our address
/// (the protocol layers, sans-IO), a `DirectStackRuntime` that runs the stack over the device
/// on an `EventLoop`, and a task on that loop that serves the port through the stack's
/// application API (`runtime.api`, a `NetworkStack`). The stack answers ping (ICMP echo) and
/// ARP by itself; closed ports answer RST.
@main
struct TAPHello {
  static func main() {
    let options: HelloOptions
    do {
      options = try HelloOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    } catch {
      fail("\(error)\n\(HelloOptions.usage)", status: 2)
    }
    // SIGINT and SIGTERM arrive through a descriptor the loop watches; block them before any
    // thread starts.
    let signals: SignalReceiver
    do { signals = try SignalReceiver() } catch { fail("\(error)", status: 1) }
    exit(run(options, signals: signals))
  }

  /// Sets up the device, the stack and the service, runs the loop until a signal stops it,
  /// and returns the exit status.
  static func run(_ options: HelloOptions, signals: borrowing SignalReceiver) -> Int32 {
    let device: TAPDevice
    do {
      device = try TAPDevice(name: options.tap, mtu: 1500, offloads: options.offloads)
    } catch {
      fail("--tap \(options.tap): \(error)", status: 2)
    }
    let deviceName = device.name
    let descriptor = device.fileDescriptor
    let mac = MACAddress(rawValue: 0x0200_0000_0000 | (entropy() & 0x00FF_FFFF_FFFF))
    let configuration = DirectStackConfiguration(
      hardwareAddress: mac, mtu: device.mtu, address: options.address, seed: entropy(),
      segmentationOffload: device.offloads)
    let stack = DirectStack(configuration: configuration, now: MonotonicClock.now())

    let counters = GreetingCounters()
    let loop: EventLoop
    let runtime: DirectStackRuntime
    do {
      loop = try EventLoop()
      runtime = try DirectStackRuntime(
        stack: stack, device: LoopDevice(device, fileDescriptor: descriptor), loop: loop,
        name: "TAPHello over \(deviceName)",
        logger: Logger(level: .warning))
      try loop.watch(signals) { signal in
        print("TAPHello: stopping on \(signal == SIGINT ? "SIGINT" : "SIGTERM")")
        loop.stop()
      }
    } catch {
      fail("\(error)", status: 1)
    }

    let api = runtime.api
    let port = options.port
    Task(executorPreference: loop) {
      do {
        try await GreetingServer(port: port, counters: counters).run(on: api)
      } catch {
        print("TAPHello: the hello service on port \(port) stopped: \(error)")
        loop.stop()
      }
    }
    print(
      "TAPHello: \(deviceName): mac \(mac), ip \(options.address); serving hello on tcp port \(port); stop with SIGINT or SIGTERM"
    )
    fflush(nil)

    var status: Int32 = 0
    do {
      try loop.run()
    } catch {
      print("TAPHello: \(error)")
      status = 1
    }
    if runtime.failed { status = 1 }
    print("TAPHello: \(counters.summary)")
    fflush(nil)
    return status
  }

  /// Prints `TAPHello: message` on standard error and exits with `status`.
  static func fail(_ message: String, status: Int32) -> Never {
    writeStandardError("TAPHello: \(message)\n")
    exit(status)
  }

  /// Random bits from the system, for the stack's seed and a made-up MAC.
  static func entropy() -> UInt64 {
    var generator = SystemRandomNumberGenerator()
    return generator.next()
  }
}
