import CLinuxShims
import Glibc
import NetCore
import NetStack

/// The Linux event loop for one direct stack over one device: epoll on the device's
/// descriptor (and a signal descriptor), with the stack's next deadline as the timeout; no
/// fixed tick.
///
/// Each turn: wait; read a batch of frames and hand them to the stack (through the inbound
/// fault injector when one is set); run the stack's timers that are due; run the services'
/// hook; send what the stack queued (through the outbound fault injector). Every frame that
/// crosses the device is written to the pcap file, if there is one.
public final class StackRunner<Device: NetworkDevice & ~Copyable> {
  /// The stack; the runner is its only owner while ``run()`` runs.
  public var stack: DirectStack
  private var device: Device
  private let deviceDescriptor: Int32
  private let epoll: Epoll
  private let signalDescriptor: Int32?
  private var pcap: PcapWriter?
  private var inbound: FrameImpairer?
  private var outbound: FrameImpairer?
  /// Frames taken from the stack, waiting for the device to accept them.
  private var deviceQueue = BoundedQueue<PacketBuffer>(limit: 4096)
  private var watchingWritable = false
  private var nextPcapFlush: Instant
  /// Frames read per wake-up at most, so that timers and sending are not starved.
  public var receiveBatch = 256
  /// Called once per turn after received frames and timers, with the current time: where
  /// services read and write.
  public var onTurn: ((inout DirectStack, Instant) -> Void)?
  /// The signal that stopped ``run()``, if one did.
  public private(set) var stopSignal: Int32?
  private var stopRequested = false
  public let logger: Logger

  public init(
    stack: DirectStack, device: consuming Device, deviceDescriptor: Int32,
    signalDescriptor: Int32?, pcap: PcapWriter?, impairment: ImpairmentConfiguration?,
    impairmentSeed: UInt64, logger: Logger
  ) throws(SystemError) {
    self.stack = stack
    self.device = device
    self.deviceDescriptor = deviceDescriptor
    self.signalDescriptor = signalDescriptor
    self.pcap = pcap
    self.logger = logger
    if let impairment, impairment.isActive {
      inbound = FrameImpairer(configuration: impairment, seed: impairmentSeed)
      outbound = FrameImpairer(configuration: impairment, seed: impairmentSeed &+ 1)
    }
    epoll = try Epoll()
    try epoll.watch(deviceDescriptor, events: UInt32(EPOLLIN.rawValue))
    if let signalDescriptor { try epoll.watch(signalDescriptor, events: UInt32(EPOLLIN.rawValue)) }
    nextPcapFlush = MonotonicClock.now() + .seconds(1)
  }

  /// Asks ``run()`` to return after the current turn.
  public func stop() { stopRequested = true }

  /// Runs until a signal arrives or ``stop()`` is called.
  public func run() throws(RunnerError) {
    var ready: [(Int32, UInt32)] = []
    ready.reserveCapacity(16)
    sendQueuedFrames(now: MonotonicClock.now())
    while !stopRequested {
      let timeout = waitTimeout(now: MonotonicClock.now())
      do {
        try epoll.wait(timeoutMilliseconds: timeout, into: &ready)
      } catch {
        throw .system(error)
      }
      var now = MonotonicClock.now()
      for (descriptor, _) in ready {
        if descriptor == deviceDescriptor {
          try receiveFrames(now: now)
        } else if descriptor == signalDescriptor {
          if let signal = SignalReceiver.take(from: descriptor) {
            stopSignal = signal
            stopRequested = true
          }
        }
      }
      now = MonotonicClock.now()
      if let inboundNext = inbound?.nextDeadline, inboundNext <= now {
        inbound!.release(now: now) { frame in
          frame.withBytes { stack.receive($0, info: ReceivedFrameInfo(), now: now) }
        }
      }
      if let deadline = stack.nextDeadline, deadline <= now { stack.poll(now: now) }
      onTurn?(&stack, now)
      stack.flush(now: now)
      sendQueuedFrames(now: now)
      if let pcap, now >= nextPcapFlush {
        pcap.flush()
        nextPcapFlush = now + .seconds(1)
      }
    }
    pcap?.flush()
  }

  /// How long epoll may sleep: until the earliest deadline of the stack, the fault injectors
  /// and the pcap flush, in whole milliseconds rounded up.
  private func waitTimeout(now: Instant) -> Int32 {
    var deadline = stack.nextDeadline
    deadline = Instant.earliest(deadline, inbound?.nextDeadline)
    deadline = Instant.earliest(deadline, outbound?.nextDeadline)
    if pcap != nil { deadline = Instant.earliest(deadline, nextPcapFlush) }
    guard let deadline else { return -1 }
    let remaining = (deadline - now).nanoseconds
    if remaining <= 0 { return 0 }
    return Int32(min((remaining + 999_999) / 1_000_000, 60_000))
  }

  private func receiveFrames(now: Instant) throws(RunnerError) {
    do {
      _ = try device.receive(limit: receiveBatch) { frame, info in
        pcap?.write(frame)
        if inbound != nil {
          inbound!.submit(frame, now: now)
        } else {
          stack.receive(frame, info: info, now: now)
        }
      }
    } catch {
      throw .device("\(error)")
    }
  }

  /// Moves the stack's frames (through the outbound fault injector, if any) to the device.
  private func sendQueuedFrames(now: Instant) {
    if outbound != nil {
      while let frame = stack.transmitQueue.popFirst() {
        frame.withBytes { outbound!.submit($0, now: now) }
      }
      outbound!.release(now: now) { frame in
        if !deviceQueue.append(frame) {
          logger.debug("device queue full; frame dropped")
        } else {
          pcap?.write(frameBytes: frame)
        }
      }
    } else {
      while !deviceQueue.isFull, let frame = stack.transmitQueue.popFirst() {
        pcap?.write(frameBytes: frame)
        deviceQueue.append(frame)
      }
    }
    do {
      try device.transmit(&deviceQueue)
    } catch {
      logger.warning("device transmit failed: \(error)")
    }
    let wantWritable = !deviceQueue.isEmpty
    if wantWritable != watchingWritable {
      let events = UInt32(EPOLLIN.rawValue) | (wantWritable ? UInt32(EPOLLOUT.rawValue) : 0)
      try? epoll.watch(deviceDescriptor, events: events, add: false)
      watchingWritable = wantWritable
    }
  }
}

extension PcapWriter {
  /// Appends the frame held in `frameBytes`.
  func write(frameBytes packet: PacketBuffer) {
    packet.withBytes { write($0) }
  }
}

/// Why the event loop stopped with an error.
public enum RunnerError: Error, CustomStringConvertible {
  case system(SystemError)
  case device(String)

  public var description: String {
    switch self {
    case .system(let error): "\(error)"
    case .device(let message): "device error: \(message)"
    }
  }
}
