import Applications
import CLinuxShims
import Glibc
import NetCore
import NetworkAPI

/// Runs the services' handlers (`ServiceHandler`) over the host kernel's own TCP sockets
/// (`netstackd --backend socket`), stepped by the event loop as `TCPServiceHost` steps them
/// over the Swift stack: the same handlers, the same timeouts, only the transport differs.
///
/// A reactor with no task per connection: each socket is non-blocking and watched by the
/// loop (level-triggered; for input only while the handler can take it, for output only while
/// bytes wait). Bytes read go to the handler straight from one shared buffer; what it does not
/// take waits in the session. What it writes waits in a bounded buffer until the socket takes
/// it; a full buffer is the handler's back-pressure. Sessions and their buffers are charged
/// to the memory budget, and a new connection is refused (closed at once) when the budget
/// admits no new work or ``maximumSessions`` are open.
public final class SocketServiceHost {
  let loop: EventLoop
  /// Where the sessions and their buffers are charged.
  public let budget: MemoryBudget
  /// The addresses each service listens on, one socket each (IPv6 ones IPv6-only).
  let bindAddresses: [IPAddress]
  private var listeners: [Int32: Service] = [:]
  private var sessions: [Int32: Session] = [:]
  private var timers = DeadlineQueue()
  /// Where reads land before the handler takes them.
  private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
  public private(set) var counters = ServiceHostSocketCounters()

  /// The most connections served at once.
  public static let maximumSessions = 65536
  /// Output held for a socket that does not take it; past it the handler is held back.
  static let outputLimit = 256 * 1024
  /// What a session costs beyond its buffers.
  static let sessionCharge = 512

  /// One connection being served.
  final class Session {
    let descriptor: Int32
    var handler: ServiceHandler
    /// Bytes read that the handler has not taken yet.
    var pendingInput: [UInt8] = []
    var output: SocketOutput
    /// The peer's FIN was read.
    var readEnded = false
    /// The handler was told of it.
    var endSeen = false
    /// The socket's epoll events as last set.
    var watching: UInt32 = 0
    /// The timer queued for this session.
    var scheduled: Instant?
    /// Incremented when the descriptor number is reused, to tell stale timers.
    let generation: UInt32

    init(descriptor: Int32, handler: ServiceHandler, budget: MemoryBudget, generation: UInt32) {
      self.descriptor = descriptor
      self.handler = handler
      output = SocketOutput(budget: budget, limit: SocketServiceHost.outputLimit)
      self.generation = generation
    }
  }
  private var nextGeneration: UInt32 = 0

  /// A host whose services listen on each of `bindAddresses`.
  public init(loop: EventLoop, bindAddresses: [IPAddress], budget: MemoryBudget) {
    self.loop = loop
    self.bindAddresses = bindAddresses
    self.budget = budget
  }

  /// A host whose services listen on the IPv4 `bindAddress` only.
  public convenience init(loop: EventLoop, bindAddress: IPv4Address, budget: MemoryBudget) {
    self.init(loop: loop, bindAddresses: [.v4(bindAddress)], budget: budget)
  }

  /// Connections being served.
  public var sessionCount: Int { sessions.count }

  /// Listens on `port` of every bind address and serves `service` there.
  public func start(_ service: Service, port: UInt16) throws(SystemError) {
    for address in bindAddresses {
      try start(service, on: SocketAddress(address, port))
    }
  }

  /// Listens on `local` (an IPv6 one for IPv6 only, RFC 3493 §5.3) and serves `service` there.
  private func start(_ service: Service, on local: SocketAddress) throws(SystemError) {
    let family = HostSocketAddress.family(of: local.address)
    let descriptor = socket(
      family,
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw SystemError(operation: "socket", errno: errno) }
    var one: Int32 = 1
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    if family == AF_INET6 {
      setsockopt(
        descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    let bound = HostSocketAddress(local).withSockaddr { bind(descriptor, $0, $1) }
    guard bound == 0, listen(descriptor, 4096) == 0 else {
      let code = errno
      close(descriptor)
      throw SystemError(operation: "bind/listen on \(local)", errno: code)
    }
    try loop.register(descriptor, events: UInt32(EPOLLIN.rawValue)) { [unowned self] _ in
      acceptAll(on: descriptor, MonotonicClock.now())
    }
    listeners[descriptor] = service
  }

  /// What the HTTP services did, summed over their ports (nil without one).
  public var httpCounters: HTTPServerCounters? {
    var total: HTTPServerCounters?
    for service in listeners.values {
      guard case .http(let server) = service else { continue }
      total = (total ?? HTTPServerCounters()) + server.counters
    }
    return total
  }

  /// Calls `body` with each counter of the host, its HTTP services and its memory budget.
  public func forEachCounter(_ body: (StaticString, StaticString, UInt64) -> Void) {
    counters.forEachCounter { body(ServiceHostSocketCounters.groupName, $0, $1) }
    httpCounters?.forEachCounter { body(HTTPServerCounters.groupName, $0, $1) }
    budget.forEachCounter { body(MemoryBudget.groupName, $0, $1) }
  }

  /// When ``runTimers(now:)`` is next needed.
  public var nextDeadline: Instant? { timers.earliest }

  /// Steps the sessions whose timers are due.
  public func runTimers(now: Instant) {
    while let (descriptor, generation) = timers.popDue(now) {
      guard let session = sessions[Int32(descriptor)], session.generation == generation else {
        continue
      }
      session.scheduled = nil
      step(session, now: now, timerFired: true)
    }
  }

  // MARK: Connections

  private func acceptAll(on listener: Int32, _ now: Instant) {
    guard let service = listeners[listener] else { return }
    for _ in 0..<256 {
      let descriptor = netstack_accept(listener)
      guard descriptor >= 0 else { return }  // EAGAIN, or a connection that went away
      guard sessions.count < SocketServiceHost.maximumSessions, budget.admitsNewWork,
        budget.reserve(SocketServiceHost.sessionCharge, for: .services)
      else {
        counters.refused += 1
        close(descriptor)
        continue
      }
      nextGeneration &+= 1
      let session = Session(
        descriptor: descriptor, handler: service.makeHandler(now: now), budget: budget,
        generation: nextGeneration)
      do {
        try loop.register(descriptor, events: 0) { [unowned self] _ in
          if let session = sessions[descriptor] {
            step(session, now: MonotonicClock.now(), timerFired: false)
          }
        }
      } catch {
        budget.release(SocketServiceHost.sessionCharge, for: .services)
        close(descriptor)
        continue
      }
      sessions[descriptor] = session
      counters.accepted += 1
      step(session, now: now, timerFired: false)
    }
  }

  /// What ended a session.
  private enum Ending {
    case close
    case abort
    case failed
  }

  /// Lets the handler send, take what arrived and the end of the stream, then does what it
  /// asks; watches the socket for what the session waits for.
  private func step(_ session: Session, now: Instant, timerFired: Bool) {
    if timerFired { session.handler.timerExpired(now: now) }
    var rounds = 0
    var progress = true
    while progress && session.handler.disposition == .open && rounds < 16 {
      rounds += 1
      progress = false
      let queued = session.output.count
      session.handler.send(output: &session.output, now: now)
      let written = session.output.count
      guard session.output.drain(to: session.descriptor) else { return end(session, .failed) }
      // The handler wrote, or the socket took bytes (room for the handler's next ones): go
      // round again.
      if written > queued || session.output.count < written { progress = true }
      // Input the handler left, then new input while it takes everything.
      if !session.pendingInput.isEmpty {
        let taken = session.pendingInput.withUnsafeBufferPointer {
          session.handler.receive(Span(_unsafeElements: $0), output: &session.output, now: now)
        }
        session.pendingInput.removeFirst(taken)
        progress = taken > 0
      } else if !session.readEnded {
        switch readOnce(session, now: now) {
        case .data: progress = true
        case .end: progress = true
        case .wouldBlock: break
        case .failed: return end(session, .failed)
        }
      }
      if session.readEnded && session.pendingInput.isEmpty && !session.endSeen
        && session.handler.disposition == .open
      {
        session.endSeen = true
        session.handler.receiveEnd(output: &session.output, now: now)
        progress = true
      }
      guard session.output.drain(to: session.descriptor) else { return end(session, .failed) }
    }
    switch session.handler.disposition {
    case .open:
      // Out of rounds with the handler still writing: be woken when the socket takes more.
      watch(session, output: progress)
      schedule(session)
    case .close:
      // The handler is done; what it wrote still goes out before the FIN.
      if session.output.isEmpty {
        end(session, .close)
      } else {
        watch(session)
      }
    case .abort:
      end(session, .abort)
    }
  }

  private enum ReadResult {
    case data
    case end
    case wouldBlock
    case failed
  }

  /// Reads once into the scratch buffer and hands the bytes to the handler; keeps what it
  /// does not take.
  private func readOnce(_ session: Session, now: Instant) -> ReadResult {
    let count = scratch.withUnsafeMutableBytes {
      recv(session.descriptor, $0.baseAddress, $0.count, 0)
    }
    if count < 0 {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .wouldBlock : .failed
    }
    if count == 0 {
      session.readEnded = true
      return .end
    }
    let taken = scratch.withUnsafeBufferPointer {
      session.handler.receive(
        Span(_unsafeElements: UnsafeBufferPointer(rebasing: $0[0..<count])),
        output: &session.output, now: now)
    }
    if taken < count { session.pendingInput = Array(scratch[taken..<count]) }
    return .data
  }

  /// Watches the socket for input while the handler can take it, for output while bytes wait
  /// (or, with `output`, while the handler may have more to write).
  private func watch(_ session: Session, output: Bool = false) {
    var events: UInt32 = 0
    let open = session.handler.disposition == .open
    if open && session.pendingInput.isEmpty && !session.readEnded {
      events |= UInt32(EPOLLIN.rawValue)
    }
    if output || !session.output.isEmpty { events |= UInt32(EPOLLOUT.rawValue) }
    guard events != session.watching else { return }
    session.watching = events
    try? loop.modify(session.descriptor, events: events)
  }

  private func schedule(_ session: Session) {
    guard let deadline = session.handler.nextDeadline,
      session.scheduled.map({ deadline < $0 }) ?? true
    else { return }
    session.scheduled = deadline
    timers.push(deadline, slot: Int(session.descriptor), generation: session.generation)
  }

  private func end(_ session: Session, _ ending: Ending) {
    session.handler.finish()
    session.output.removeAll()
    loop.unregister(session.descriptor)
    switch ending {
    case .close:
      counters.closed += 1
    case .abort:
      // SO_LINGER with a zero timeout: close sends RST (RFC 9293 §3.10.5 ABORT).
      var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
      setsockopt(
        session.descriptor, SOL_SOCKET, SO_LINGER, &linger,
        socklen_t(MemoryLayout<Glibc.linger>.size))
      counters.reset += 1
    case .failed:
      counters.failed += 1
    }
    close(session.descriptor)
    sessions[session.descriptor] = nil
    budget.release(SocketServiceHost.sessionCharge, for: .services)
  }
}

/// What a handler writes for a host socket: held in a bounded buffer (charged to the memory
/// budget) until the socket takes it.
struct SocketOutput: ConnectionOutput, ~Copyable {
  private var ring: ByteRing
  let limit: Int

  init(budget: MemoryBudget, limit: Int) {
    ring = ByteRing(budget: budget, use: .services)
    self.limit = limit
  }

  var isEmpty: Bool { ring.isEmpty }
  var count: Int { ring.count }

  mutating func write(_ bytes: Span<UInt8>) -> Int {
    let room = limit - ring.count
    guard room > 0 else { return 0 }
    return ring.append(bytes.extracting(0..<min(room, bytes.count)))
  }

  /// Sends what the socket takes now (never raising SIGPIPE); false if the connection failed.
  mutating func drain(to descriptor: Int32) -> Bool {
    while !ring.isEmpty {
      var failed = false
      var blocked = false
      let sent = ring.consume { bytes in
        let count = bytes.withUnsafeBufferPointer {
          Glibc.send(
            descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        }
        if count < 0 {
          if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
            blocked = true
          } else {
            failed = true
          }
          return 0
        }
        return count
      }
      if failed { return false }
      if blocked || sent == 0 { return true }
    }
    return true
  }

  mutating func removeAll() { ring.removeAll() }
}

/// What the socket service host did with connections.
public struct ServiceHostSocketCounters: CounterGroup, Equatable, Sendable {
  public static let groupName: StaticString = "services"

  public var accepted: UInt64 = 0
  public var closed: UInt64 = 0
  public var reset: UInt64 = 0
  public var failed: UInt64 = 0
  /// Connections closed at once: too many sessions, or no memory for another.
  public var refused: UInt64 = 0

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("accepted", accepted)
    body("closed", closed)
    body("reset", reset)
    body("failed", failed)
    body("refused", refused)
  }
}
