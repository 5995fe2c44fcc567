import NetCore
import NetStack
import Netfront

/// A guest and its dom0 in one process, driven by a virtual clock: the guest's direct stack
/// over a ``NetfrontDevice`` on a ``SimulatedXenPlatform``; the ``SimulatedNetback`` serving
/// that device; and, behind the back end's vif, the host's direct stack (dom0's side of the
/// link). Every frame either way goes through the shared rings and granted pages.
public final class NetfrontTestbed {
  public let xen = SimulatedXen()
  public let netback: SimulatedNetback
  public var device: NetfrontDevice<SimulatedXenPlatform>
  /// The stack in the guest, over netfront.
  public var guest: DirectStack
  /// The stack in dom0, behind the vif.
  public var host: DirectStack
  /// The host stack's device: what the back end passes on from the guest, and what goes to it.
  private var hostEnd: MemoryDevice
  /// The virtual time.
  public private(set) var now: Instant
  /// Frames moved each way so far (the guest's view).
  public private(set) var framesFromGuest = 0
  public private(set) var framesToGuest = 0
  /// Frames the guest's device reads per call (the runtime's batch).
  public var receiveBatch = 64

  /// The guest's MAC address (the toolstack's `mac` key).
  public static let guestMAC = MACAddress(0x00, 0x16, 0x3E, 0x00, 0x00, 0x02)
  public static let hostMAC = MACAddress(0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)

  /// Sets both ends up and connects the device (failing if it does not connect).
  public init(
    guestAddress: IPv4CIDR, hostAddress: IPv4CIDR, configuration: NetfrontConfiguration = .init(),
    mtu: Int? = nil, seed: UInt64 = 1, start: Instant = Instant(nanoseconds: 1_000_000_000)
  ) throws(NetfrontError<SimulatedXenError>) {
    now = start
    netback = SimulatedNetback(xen: xen, mac: NetfrontTestbed.guestMAC, mtu: mtu)
    let backend = netback
    xen.onWait = { _ in backend.process() }
    device = try NetfrontDevice(
      platform: SimulatedXenPlatform(xen: xen, domain: XenDomainID(rawValue: 1)),
      configuration: configuration)
    var clock = start
    try device.waitUntilConnected(timeout: .seconds(5)) {
      clock = clock + .milliseconds(1)
      return clock
    }
    guest = DirectStack(
      configuration: DirectStackConfiguration(
        hardwareAddress: device.hardwareAddress!, mtu: device.mtu, address: guestAddress,
        seed: seed),
      now: start)
    host = DirectStack(
      configuration: DirectStackConfiguration(
        hardwareAddress: NetfrontTestbed.hostMAC, mtu: device.mtu, address: hostAddress,
        seed: seed &+ 1000),
      now: start)
    hostEnd = MemoryDevice(mtu: device.mtu)
  }

  /// One round at the current time: the guest's device, the guest's stack, the back end,
  /// the host's stack, the back end again. Returns whether any frame moved.
  @discardableResult
  public func step() throws(NetfrontError<SimulatedXenError>) -> Bool {
    let time = now
    let guestFrames = guestLinkActivity
    _ = try guest.poll(now: time, device: &device, receiveBatch: receiveBatch)
    framesToGuest += Int(guest.ipv4.link.ethernetCounters.framesReceived - guestFrames.received)
    let guestMoved = guestLinkActivity != guestFrames
    netback.process()
    for frame in netback.takeFramesFromFrontend() {
      framesFromGuest += 1
      frame.withUnsafeBufferPointer {
        hostEnd.inbox.append(PacketBuffer(copying: Span(_unsafeElements: $0), headroom: 0))
      }
    }
    _ = host.poll(now: time, device: &hostEnd, receiveBatch: .max)
    let toGuest = hostEnd.takeSent()
    for frame in toGuest {
      frame.withBytes { bytes in
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count)
        for index in 0..<bytes.count { copy.append(bytes[index]) }
        netback.deliver(copy)
      }
    }
    netback.process()
    return guestMoved || !toGuest.isEmpty
  }

  /// The guest's link counters (frames received, frames sent): what moved in a step.
  private var guestLinkActivity: (received: UInt64, sent: UInt64) {
    let counters = guest.ipv4.link.ethernetCounters
    return (counters.framesReceived, counters.framesSent)
  }

  /// Runs until `deadline`, or until `turn` returns false; `turn` runs after each step, where
  /// a test's applications act. Time jumps to the next stack deadline whenever a step moved
  /// nothing. Returns the time reached.
  @discardableResult
  public func run(until deadline: Instant, _ turn: (NetfrontTestbed) -> Bool = { _ in true })
    throws(NetfrontError<SimulatedXenError>) -> Instant
  {
    var idleSteps = 0
    while now <= deadline {
      let moved = try step()
      guard turn(self) else { break }
      // What the test's applications queued goes out at the next step's poll.
      if moved || guest.tcp.hasPendingOutput || host.tcp.hasPendingOutput
        || !guest.transmitQueue.isEmpty
      {
        idleSteps = 0
        continue
      }
      idleSteps += 1
      if idleSteps < 2 { continue }
      idleSteps = 0
      // A back end that holds responses back publishes them before time moves on.
      if netback.unpublishedResponses > 0 {
        netback.flushResponses()
        continue
      }
      guard let next = Instant.earliest(guest.nextDeadline, host.nextDeadline), next <= deadline
      else {
        now = deadline
        break
      }
      now = max(next, now + .microseconds(1))
    }
    return now
  }
}
