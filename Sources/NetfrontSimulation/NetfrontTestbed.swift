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
  }

  /// One round at the current time: the guest's device, the guest's stack, the back end,
  /// the host's stack, the back end again. Returns whether any frame moved.
  @discardableResult
  public func step() throws(NetfrontError<SimulatedXenError>) -> Bool {
    let time = now
    let before = framesFromGuest + framesToGuest
    let received = try device.receive(limit: receiveBatch) { frame, info in
      guest.receive(frame, info: info, now: time)
    }
    framesToGuest += received
    if let due = guest.nextDeadline, due <= time { guest.poll(now: time) }
    guest.flush(now: time)
    let queued = guest.transmitQueue.count
    try device.transmit(&guest.transmitQueue)
    let sent = queued - guest.transmitQueue.count
    netback.process()
    for frame in netback.takeFramesFromFrontend() {
      framesFromGuest += 1
      frame.withUnsafeBufferPointer {
        host.receive(Span(_unsafeElements: $0), info: ReceivedFrameInfo(), now: time)
      }
    }
    if let due = host.nextDeadline, due <= time { host.poll(now: time) }
    host.flush(now: time)
    var delivered = false
    while let frame = host.transmitQueue.popFirst() {
      frame.withBytes { bytes in
        var copy: [UInt8] = []
        copy.reserveCapacity(bytes.count)
        for index in 0..<bytes.count { copy.append(bytes[index]) }
        netback.deliver(copy)
      }
      delivered = true
    }
    netback.process()
    return framesFromGuest + framesToGuest != before || sent > 0 || received > 0 || delivered
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
      guest.flush(now: now)
      host.flush(now: now)
      if moved || !guest.transmitQueue.isEmpty || !host.transmitQueue.isEmpty {
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
