import DHCP
import IPv6
import NetCore
import NetStack
import Netfront
import TCP
import UDP
import XenBareMetal

/// The netfront driver's platform in the unikernel.
public typealias UnikernelPlatform<Architecture: GuestArchitecture> = XenBareMetalPlatform<
  XenHypercalls<Architecture>
>

/// The whole unikernel, read top-down: map Xen's shared pages, attach the console, read the
/// command line, bring up netfront over ``XenBareMetalPlatform`` (wrapped for `trace` and
/// `impair=`), build the ``DirectStack`` on it with netstackd's default services
/// (``UnikernelServices``), and run ``UnikernelLoop`` until dom0 asks for a shutdown (`xl
/// shutdown`: `control/shutdown` in xenstore) or the back end goes away. Every failure is
/// printed and ends the guest with `SHUTDOWN_crash`.
public enum Unikernel<Architecture: GuestArchitecture> {
  /// Grant-table frames mapped (512 v1 entries each): enough for both rings and 256 + 256
  /// buffers.
  static var grantFrames: Int { 4 }
  /// Pages set aside for netfront's rings and buffers.
  static var sharedPages: Int { 640 }

  public static func boot(_ architecture: Architecture) -> Never {
    let hypercalls = XenHypercalls(architecture: architecture)
    print("netstack unikernel: booting")
    let shared: SharedInfo
    do {
      shared = try mapSharedInfo(hypercalls)
      try attachConsole(hypercalls)
    } catch {
      fail(
        "mapping shared_info and the console failed: hypercall error \(error.code)", architecture)
    }
    let started = architecture.systemTime()
    print(
      "netstack unikernel: Swift on Xen, console up; command line \"\(architecture.commandLine)\"")
    let configuration = BootConfiguration(commandLine: architecture.commandLine)
    for problem in configuration.problems {
      print("netstack unikernel: ignoring \(problem)")
    }

    let platform: UnikernelPlatform<Architecture>
    do {
      platform = try makePlatform(hypercalls, shared: shared)
    } catch {
      fail(
        "setting up the grant table and xenstore failed: hypercall error \(error.code)",
        architecture)
    }
    var device: NetfrontDevice<UnikernelPlatform<Architecture>>
    do {
      device = try NetfrontDevice(platform: platform, configuration: NetfrontConfiguration())
      try device.waitUntilConnected(timeout: .seconds(10)) { now(architecture) }
    } catch {
      fail("netfront: \(error)", architecture)
    }
    let mac = device.hardwareAddress ?? MACAddress(0x00, 0x16, 0x3E, 0x00, 0x00, 0x02)
    print(
      "netstack unikernel: netfront vif 0 connected: mac \(mac), mtu \(device.mtu), backend \(device.backendPath)"
        + (device.backendFeatures.takesTCPSegmentation ? ", TCP segmentation offload" : "")
    )

    let entropy = BootEntropy.gather(architecture)
    print("netstack unikernel: secrets seeded from \(entropy.source)")

    var tcp = TCPConfiguration()
    tcp.sendBufferSize = 512 * 1024
    tcp.receiveBufferSize = 256 * 1024
    tcp.maximumConnections = 1024
    tcp.maximumTimeWait = 1024
    tcp.synBacklog = 128
    var stackConfiguration = DirectStackConfiguration(
      hardwareAddress: mac, mtu: device.mtu, address: configuration.address,
      gateway: configuration.gateway, seed: entropy.seed,
      // A back end that cuts up large TCP segments takes the stack's 64 KiB segments.
      segmentationOffload: device.backendFeatures.takesTCPSegmentation, tcp: tcp)
    stackConfiguration.ipv6Addresses = configuration.ipv6Addresses
    stackConfiguration.ipv6Gateway = configuration.ipv6Gateway
    stackConfiguration.ipv6Autoconfiguration = configuration.ipv6Autoconfiguration
    var stack = DirectStack(configuration: stackConfiguration, now: now(architecture))
    if configuration.address == nil {
      do {
        try stack.startDHCPClient(
          DHCPClient.Configuration(hardwareAddress: mac), now: now(architecture))
      } catch {
        fail("DHCP client: \(error)", architecture)
      }
    }
    do {
      try UnikernelServices.start(on: &stack, platform: "a Swift unikernel on Xen")
    } catch {
      fail("services: \(error)", architecture)
    }
    let address = configuration.address.map { "\($0)" } ?? "DHCP"
    let heap = architecture.heapUsage
    print(
      "netstack unikernel: serving \(UnikernelServices.summary) on \(address) after \((architecture.systemTime() - started) / 1_000_000) ms; heap \(heap.inUse / 1024) KiB of \(heap.size / 1024) KiB in use"
    )

    // The link-local address is formed at start (RFC 4862 §5.3); the console names it so
    // that dom0 can reach the guest there.
    var ipv6 = "link-local"
    for entry in stack.ipv6.addresses where entry.origin == .linkLocal { ipv6 = "\(entry.cidr)" }
    for cidr in configuration.ipv6Addresses { ipv6 += ", \(cidr)" }
    if configuration.ipv6Autoconfiguration { ipv6 += ", auto" }
    if let router = configuration.ipv6Gateway { ipv6 += ", gateway \(router)" }
    print("netstack unikernel: ipv6 \(ipv6)")

    if configuration.crashTest {
      fatalError("crash-test on the command line: trapping on purpose")
    }
    if configuration.trace { print("netstack unikernel: tracing every frame on the console") }
    if configuration.impairment.isActive {
      print("netstack unikernel: impairing frames both ways as impair= asks")
    }
    let trace: ((String) -> Void)? =
      configuration.trace ? { line in print("netstack unikernel: frame \(line)") } : nil
    let wrapped = ImpairedDevice(
      wrapping: TracingDevice(wrapping: device, trace: trace),
      configuration: configuration.impairment, seed: entropy.seed)
    var loop = UnikernelLoop(device: wrapped, architecture: architecture)
    let reason = loop.run(stack)
    architecture.shutdown(reason)
  }

  /// Xen's system time as the stack's clock.
  static func now(_ architecture: Architecture) -> Instant {
    Instant(nanoseconds: Int64(architecture.systemTime()))
  }

  /// Prints why the guest stops and crashes it (on_crash decides what then happens).
  static func fail(_ message: String, _ architecture: Architecture) -> Never {
    print("netstack unikernel: FATAL: \(message)")
    architecture.shutdown(.crash)
  }

  /// Maps shared_info at the architecture's first free frame and masks every event channel
  /// (the unikernel polls; see ``XenBareMetalPlatform``).
  static func mapSharedInfo(_ hypercalls: XenHypercalls<Architecture>) throws(XenHypercallError)
    -> SharedInfo
  {
    let frame = hypercalls.architecture.freeFrame(0)
    try hypercalls.addToPhysmap(space: 0, index: 0, frame: frame)
    let shared = SharedInfo(page: UnsafeMutableRawPointer(bitPattern: frame << 12)!)
    shared.maskAllEvents()
    return shared
  }

  /// Sends `print` to the PV console ring (`HVM_PARAM_CONSOLE_PFN`/`_EVTCHN`), which
  /// xenconsoled copies to dom0.
  static func attachConsole(_ hypercalls: XenHypercalls<Architecture>) throws(XenHypercallError) {
    let frame = try hypercalls.parameter(.consoleFrame)
    let port = try hypercalls.parameter(.consoleEventChannel)
    guard frame != 0 else { return }
    hypercalls.architecture.attachConsole(
      ring: UnsafeMutableRawPointer(bitPattern: UInt(frame) << 12)!,
      port: UInt32(truncatingIfNeeded: port))
  }

  /// Maps the grant table's frames after shared_info, sets aside pages for netfront, and
  /// finds the xenstore ring.
  static func makePlatform(_ hypercalls: XenHypercalls<Architecture>, shared: SharedInfo)
    throws(XenHypercallError) -> UnikernelPlatform<Architecture>
  {
    for index in 0..<grantFrames {
      try hypercalls.addToPhysmap(
        space: 1, index: UInt(index), frame: hypercalls.architecture.freeFrame(1 + index))
    }
    let grantTable = GrantTableV1(
      base: UnsafeMutableRawPointer(bitPattern: hypercalls.architecture.freeFrame(1) << 12)!,
      entryCount: grantFrames * 4096 / GrantTableV1.entrySize)
    let storeFrame = try hypercalls.parameter(.storeFrame)
    let storePort = try hypercalls.parameter(.storeEventChannel)
    let region = UnsafeMutableRawPointer.allocate(
      byteCount: sharedPages * 4096, alignment: 4096)
    return XenBareMetalPlatform(
      hypervisor: hypercalls, grantTable: grantTable,
      pages: PageAllocator(start: region, byteCount: sharedPages * 4096),
      eventPending: shared.eventPending,
      xenstore: UnsafeMutableRawPointer(bitPattern: UInt(storeFrame) << 12)!,
      xenstorePort: EventChannelPort(rawValue: UInt32(truncatingIfNeeded: storePort)))
  }
}
