import CLinuxShims
import DHCP
import Glibc
import NetCore
import NetStack
import TCP
import UDP

/// The direct stack on Linux: a `DirectStack` owned by an ``EventLoop``, fed frames by a
/// device, with the fault injector and pcap writer between them, and the bookkeeping that
/// suspends application tasks until their connection is ready (the waiters).
///
/// Everything here runs on the loop's thread; ``DirectNetworkStack`` is the `Sendable` face
/// that applications hold.
public final class DirectStackRuntime: @unchecked Sendable {
  /// The loop that owns the stack; every call into the stack runs on its thread.
  public let loop: EventLoop
  /// The stack (loop thread only).
  public var stack: DirectStack
  private let device: any FrameDevice
  private let pcap: PcapWriter?
  private var inbound: FrameImpairer?
  private var outbound: FrameImpairer?
  private var deviceQueue: FrameQueue
  /// The frames of ``deviceQueue`` again, in the same order: once the device has taken the
  /// oldest ones, their buffers go back to the stack's pool from here.
  private var framesAtDevice = BoundedQueue<PacketBuffer>(limit: 4096)
  private var watchingWritable = false
  private var nextPcapFlush: Instant
  /// Where the runtime logs device errors, connection events (debug) and frames (trace).
  public let logger: Logger
  /// A name for the stack in pages and logs.
  public let name: String
  /// Frames read per wake-up at most.
  public var receiveBatch = 256
  /// The device failed (or its peer went away) and stopped the loop.
  public private(set) var failed = false
  /// Called on the loop with each DHCP client event (bound, renewed, lost, declined).
  public var onDHCPEvent: ((DHCPClientAction) -> Void)?

  // Tasks waiting for something, resumed when the stack reports it.
  var readers = WaiterTable<TCPConnectionID>()
  var writers = WaiterTable<TCPConnectionID>()
  var acceptors = WaiterTable<UInt16>()
  var datagramReaders = WaiterTable<UDPEndpointID>()

  /// Runs `stack` over `device` on `loop`: registers the device's descriptor and takes the
  /// loop's ``EventLoop/deadline`` and ``EventLoop/turn`` (one runtime per loop). With `pcap`,
  /// every frame in and out is written to it; with an active `impairment`, frames are impaired
  /// both ways by a fault injector seeded with `impairmentSeed`. `name` names the stack in
  /// pages and logs. Call it before the loop runs (or on its thread); keep the runtime as long
  /// as the loop runs (the loop's closures hold it `unowned`).
  public init<Device: NetworkDevice & ~Copyable>(
    stack: DirectStack, device: LoopDevice<Device>, loop: EventLoop, name: String,
    pcap: PcapWriter?, impairment: ImpairmentConfiguration?, impairmentSeed: UInt64, logger: Logger
  ) throws(SystemError) {
    deviceQueue = FrameQueue(limit: 4096, budget: stack.budget)
    self.stack = stack
    self.device = device
    self.loop = loop
    self.name = name
    self.pcap = pcap
    self.logger = logger
    if let impairment, impairment.isActive {
      inbound = FrameImpairer(configuration: impairment, seed: impairmentSeed)
      outbound = FrameImpairer(configuration: impairment, seed: impairmentSeed &+ 1)
    }
    nextPcapFlush = MonotonicClock.now() + .seconds(1)
    try loop.register(device.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
      [unowned self] events in
      if events & UInt32(EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
        receiveFrames(now: MonotonicClock.now())
      }
    }
    loop.deadline = { [unowned self] in nextDeadline }
    loop.turn = { [unowned self] now in turn(now: now) }
  }

  /// The face applications use.
  public var api: DirectNetworkStack { DirectNetworkStack(runtime: self) }

  // MARK: The loop's work

  private var nextDeadline: Instant? {
    var deadline = stack.nextDeadline
    deadline = Instant.earliest(deadline, inbound?.nextDeadline)
    deadline = Instant.earliest(deadline, outbound?.nextDeadline)
    if pcap != nil { deadline = Instant.earliest(deadline, nextPcapFlush) }
    return deadline
  }

  private func receiveFrames(now: Instant) {
    do {
      let tracing = logger.enabled(.trace)
      _ = try device.receive(limit: receiveBatch) { frame, info in
        if tracing { logger.trace("in  \(FrameDescription.describe(frame))") }
        if let pcap {
          if info.transportChecksumVerified {
            pcap.writeCompletingChecksum(frame)
          } else {
            pcap.write(frame)
          }
        }
        if inbound != nil {
          if info.transportChecksumVerified {
            // The kernel left the checksum partial; complete it so that the injector's
            // corruption is caught as it would be on a wire.
            let copy = PacketBuffer(copying: frame, headroom: 0)
            copy.withMutableBytes { FrameChecksum.completeTransportChecksum(&$0) }
            inbound!.submit(copy, now: now)
          } else {
            inbound!.submit(frame, now: now)
          }
        } else {
          stack.receive(frame, info: info, now: now)
        }
      }
    } catch {
      logger.error("device: \(error)")
      failed = true
      loop.stop()
    }
  }

  /// After handlers and jobs: due impaired frames, timers, wake-ups, then everything queued
  /// goes to the device.
  private func turn(now: Instant) {
    if let due = inbound?.nextDeadline, due <= now {
      inbound!.release(now: now) { frame in
        frame.withBytes { stack.receive($0, info: ReceivedFrameInfo(), now: now) }
      }
    }
    if let deadline = stack.nextDeadline, deadline <= now { stack.poll(now: now) }
    stack.flush(now: now)
    reportDHCPEvents()
    wakeWaiters()
    sendQueuedFrames(now: now)
    if let pcap, now >= nextPcapFlush {
      pcap.flush()
      nextPcapFlush = now + .seconds(1)
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
        if debugging, let connection = stack.tcp.connection(id),
          !events.intersection([.established, .closed]).isEmpty
        {
          let failure = connection.error.map { " (\($0))" } ?? ""
          logger.debug("tcp \(connection.tuple) \(connection.state.name)\(failure)")
        }
        if !events.intersection([.readable, .closed]).isEmpty { readers.resumeAll(id) }
        if !events.intersection([.writable, .closed, .established]).isEmpty, writers.hasWaiters(id)
        {
          let connection = stack.tcp.connection(id)
          let space = connection?.writableBytes ?? 0
          let limit = connection?.sendBufferTarget ?? 0
          if connection == nil || events.contains(.closed) || events.contains(.established)
            || connection!.error != nil || space >= min(limit / 4, 256 * 1024)
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

  /// Moves the stack's frames (through the outbound fault injector) to the device.
  private func sendQueuedFrames(now: Instant) {
    let tracing = logger.enabled(.trace)
    if outbound != nil {
      while let frame = stack.transmitQueue.popFirst() {
        outbound!.submit(frame, now: now)
      }
      outbound!.release(now: now) { frame in
        if deviceQueue.append(frame) {
          framesAtDevice.append(frame)
          pcap?.write(frameBytes: frame)
        }
      }
    } else {
      while !deviceQueue.isFull, let frame = stack.transmitQueue.popFirst() {
        if tracing { frame.withBytes { logger.trace("out \(FrameDescription.describe($0))") } }
        pcap?.write(frameBytes: frame)
        // A frame the budget has no room for is dropped here, as a full queue drops it.
        if deviceQueue.append(frame) { framesAtDevice.append(frame) }
      }
    }
    do {
      try device.transmit(&deviceQueue)
    } catch {
      logger.warning("device transmit failed: \(error)")
    }
    // The device takes frames from the front: the oldest ones of the copy are the written ones.
    while framesAtDevice.count > deviceQueue.count, var frame = framesAtDevice.popFirst() {
      stack.recycle(&frame)
    }
    let wantWritable = !deviceQueue.isEmpty
    if wantWritable != watchingWritable {
      let events = UInt32(EPOLLIN.rawValue) | (wantWritable ? UInt32(EPOLLOUT.rawValue) : 0)
      try? loop.modify(device.fileDescriptor, events: events)
      watchingWritable = wantWritable
    }
  }

  private func reportDHCPEvents() {
    guard !stack.dhcpEvents.isEmpty else { return }
    for event in stack.takeDHCPEvents() { onDHCPEvent?(event) }
  }

  /// Gives a DHCP lease back (DHCPRELEASE) and sends it at once: at shutdown, before the
  /// device closes.
  public func releaseDHCPLease() {
    let now = MonotonicClock.now()
    stack.releaseDHCPLease(now: now)
    reportDHCPEvents()
    sendQueuedFrames(now: now)
  }

  /// Flushes the pcap file (at shutdown).
  public func finish() {
    pcap?.flush()
  }
}

extension PcapWriter {
  /// Appends the frame held in `frameBytes`, its offloaded checksum completed.
  func write(frameBytes packet: PacketBuffer) {
    if packet.offload == .none {
      packet.withBytes { write($0) }
    } else {
      packet.withBytes { writeCompletingChecksum($0) }
    }
  }
}
