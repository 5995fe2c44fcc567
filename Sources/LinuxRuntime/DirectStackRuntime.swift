import CLinuxShims
import DHCP
import Glibc
import NetCore
import NetStack
import TCP
import UDP

/// The direct stack on Linux: a `DirectStack` owned by an ``EventLoop`` and polled over a
/// device (any driver, wrapped in the capture, fault-injection and tracing devices the options
/// ask for), and the bookkeeping that suspends application tasks until their connection is
/// ready (the waiters).
///
/// Each turn of the loop is one `DirectStack.poll(now:device:receiveBatch:)`: the loop waits
/// until the device is readable, a task has work, or the deadline the last poll returned, then
/// polls; the order of the work inside is the stack's, not the runtime's.
///
/// Everything here runs on the loop's thread; ``DirectNetworkStack`` is the `Sendable` face
/// that applications hold.
public final class DirectStackRuntime: @unchecked Sendable {
  /// The loop that owns the stack; every call into the stack runs on its thread.
  public let loop: EventLoop
  /// The stack (loop thread only).
  public var stack: DirectStack
  private let device: any FrameDevice
  private var watchingWritable = false
  /// Whether the halt of router advertising has been logged.
  private var advertisingHaltReported = false
  /// The IPv6 layer's duplicate addresses at the last look (`ndp.duplicate_addresses`).
  private var duplicatesSeen: UInt64 = 0
  /// Whether the relay's IPv6 DNS address's failed detection has been logged.
  private var relayDNS6DuplicateReported = false
  /// When the last poll asked to be polled again. The first turn comes at once: the stack may
  /// have been given work before the loop runs (a DHCP client's DISCOVER, a gratuitous ARP)
  /// that no frame from the peer will prompt (passt, QEMU and a silent link send nothing first).
  private var nextDeadline: Instant? = .zero
  /// Where the runtime logs device errors and connection events (debug).
  public let logger: Logger
  /// A name for the stack in pages and logs.
  public let name: String
  /// Frames read per poll at most.
  public var receiveBatch = 256
  /// The device failed (or its peer went away) and stopped the loop.
  public private(set) var failed = false
  /// Called on the loop with each DHCP client event (bound, renewed, lost, declined).
  public var onDHCPEvent: ((DHCPClientAction) -> Void)?
  /// Called on the loop after each poll, for work beside the stack that reads what the poll
  /// received and may queue frames (the relay's DNS and echo); frames it queues go out at the
  /// end of the same turn (a second poll that reads nothing), not a turn later.
  public var afterPoll: ((Instant) -> Void)?

  // Tasks waiting for something, resumed when the stack reports it.
  var readers = WaiterTable<TCPConnectionID>()
  var writers = WaiterTable<TCPConnectionID>()
  var acceptors = WaiterTable<UInt16>()
  var datagramReaders = WaiterTable<UDPEndpointID>()

  /// Runs `stack` over `device` on `loop`: registers the device's descriptor and takes the
  /// loop's ``EventLoop/deadline`` and ``EventLoop/turn`` (one runtime per loop). A capture,
  /// impairment or tracing is a device wrapped around the driver (`PcapDevice`,
  /// `ImpairedDevice`, `TracingDevice`) before it is handed in. `name` names the stack in pages
  /// and logs. Call it before the loop runs (or on its thread); keep the runtime as long as the
  /// loop runs (the loop's closures hold it `unowned`).
  public init<Device: NetworkDevice & ~Copyable>(
    stack: DirectStack, device: LoopDevice<Device>, loop: EventLoop, name: String, logger: Logger
  ) throws(SystemError) {
    self.stack = stack
    self.device = device
    self.loop = loop
    self.name = name
    self.logger = logger
    // Readiness only wakes the loop: the turn polls.
    try loop.register(device.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) { _ in }
    loop.deadline = { [unowned self] in nextDeadline }
    loop.turn = { [unowned self] now in turn(now: now) }
  }

  /// The face applications use.
  public var api: DirectNetworkStack { DirectNetworkStack(runtime: self) }

  // MARK: The loop's work

  /// One poll, then the application's waiters and the DHCP client's news; the device is watched
  /// for room while frames wait for it.
  private func turn(now: Instant) {
    do {
      nextDeadline = try device.poll(&stack, now: now, receiveBatch: receiveBatch)
    } catch {
      logger.error("device: \(error)")
      failed = true
      loop.stop()
      return
    }
    reportDHCPEvents()
    reportAdvertisingHalt()
    reportRelayDNS6Duplicate()
    if let afterPoll {
      afterPoll(now)
      if stack.hasFramesToSend { transmitQueued(now: now) }
    }
    wakeWaiters()
    let wantWritable = !stack.transmitQueue.isEmpty
    if wantWritable != watchingWritable {
      let events = UInt32(EPOLLIN.rawValue) | (wantWritable ? UInt32(EPOLLOUT.rawValue) : 0)
      try? loop.modify(device.fileDescriptor, events: events)
      watchingWritable = wantWritable
    }
  }

  /// Sends what work beside the stack queued after the turn's poll (a relayed echo reply, a
  /// DNS answer): one more poll that reads nothing (its flush and transmit), so that it leaves
  /// in this turn rather than after another `epoll_wait` and a whole turn of its own.
  private func transmitQueued(now: Instant) {
    do {
      let deadline = try device.poll(&stack, now: now, receiveBatch: 0)
      nextDeadline = Instant.earliest(nextDeadline, deadline)
    } catch {
      logger.error("device: \(error)")
      failed = true
      loop.stop()
    }
  }

  /// Resumes the tasks whose connection, listener or socket has news. A writer is woken
  /// only once a useful amount of buffer space is free (or the connection ended), so that a
  /// bulk sender is not woken by every acknowledgment.
  func wakeWaiters() {
    let debugging = logger.enabled(.debug)
    for notification in stack.takeApplicationNotifications() {
      switch notification {
      case .connection(let id, let events):
        if debugging, let info = stack.tcp.info(id),
          !events.intersection([.established, .closed]).isEmpty
        {
          let failure = info.error.map { " (\($0))" } ?? ""
          logger.debug("tcp \(info.tuple) \(info.state.name)\(failure)")
        }
        if !events.intersection([.readable, .closed]).isEmpty { readers.resumeAll(id) }
        if !events.intersection([.writable, .closed, .established]).isEmpty, writers.hasWaiters(id)
        {
          let info = stack.tcp.info(id)
          let space = info?.writableBytes ?? 0
          let limit = info?.sendBufferTarget ?? 0
          if info == nil || events.contains(.closed) || events.contains(.established)
            || info!.error != nil || space >= min(limit / 4, 256 * 1024)
          {
            writers.resumeAll(id)
          }
        }
      case .listener(let listener):
        if debugging {
          logger.debug("tcp listener \(listener.port): a connection waits to be accepted")
        }
        acceptors.resumeAll(listener.port)
      }
    }
    for endpoint in stack.takeReadableUDPEndpoints() {
      datagramReaders.resumeAll(endpoint)
    }
  }

  /// Logs, once, that router advertising stopped for want of a link-local address (it failed
  /// duplicate address detection: another node on the link claims it).
  private func reportAdvertisingHalt() {
    guard !advertisingHaltReported, stack.ipv6.advertisingHaltedWithoutLinkLocal else { return }
    advertisingHaltReported = true
    logger.error(
      "ipv6: router advertisements stopped: the link-local address failed duplicate address "
        + "detection (another node on the link answers for it); guests get no IPv6 router")
  }

  /// Logs, once, that the relay's IPv6 DNS address failed duplicate address detection
  /// (another node on the link, a guest, answers for it): DNS over IPv6 is off. Looks only
  /// when the layer has detected a duplicate since the last turn.
  private func reportRelayDNS6Duplicate() {
    let detected = stack.ipv6.ndpCounters.duplicateAddresses
    guard detected != duplicatesSeen else { return }
    duplicatesSeen = detected
    guard !relayDNS6DuplicateReported, stack.relayDNS6IsDuplicate,
      let address = stack.relay?.dnsAddress6
    else { return }
    relayDNS6DuplicateReported = true
    logger.warning(
      "relay: dns: \(address) failed duplicate address detection (another node on the link "
        + "answers for it): no DNS over IPv6; guests that use it get no answers")
  }

  private func reportDHCPEvents() {
    guard !stack.dhcpEvents.isEmpty else { return }
    for event in stack.takeDHCPEvents() { onDHCPEvent?(event) }
  }

  /// Sends the final router advertisements (router lifetime 0, RFC 4861 §6.2.5) at once, when
  /// the stack is the guests' IPv6 router: at shutdown, before the device closes.
  public func ceaseRouterAdvertising() {
    let now = MonotonicClock.now()
    stack.ceaseRouterAdvertising(now: now)
    _ = try? device.poll(&stack, now: now, receiveBatch: 0)
  }

  /// Gives a DHCP lease back (DHCPRELEASE) and sends it at once: at shutdown, before the
  /// device closes.
  public func releaseDHCPLease() {
    let now = MonotonicClock.now()
    stack.releaseDHCPLease(now: now)
    reportDHCPEvents()
    _ = try? device.poll(&stack, now: now, receiveBatch: 0)
  }
}
