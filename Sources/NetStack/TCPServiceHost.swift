import Applications
import NetCore
import TCP

/// Runs services on the stack's TCP layer with no task per connection: it accepts on their
/// listeners, gives each connection a handler (`ConnectionHandler`), and steps a handler
/// when its connection has news (bytes, room to send, the peer's FIN, a failure) or its timer
/// is due, doing what the handler's disposition asks. The same host serves netstackd's direct
/// backend and the unikernel; the handlers are the ones `--backend socket` drives over host
/// sockets.
///
/// A step lends the handler the connection's receive buffer in place and its send buffer to
/// write into (`TCPLayer.exchange`), so an echo copies each byte once, from one buffer to the
/// other. Each session is charged to the memory budget (``sessionCharge``); the handlers
/// charge their own buffers.
public struct TCPServiceHost {
  /// One connection being served.
  struct Session {
    var connection: TCPConnectionID
    var generation: UInt32
    var handler: ServiceHandler
    /// The handler was told of the peer's FIN.
    var endSeen = false
    /// The earliest deadline queued for this session.
    var scheduled: Instant?
  }

  private var services: [UInt16: (service: Service, listener: TCPListenerID)] = [:]
  private var sessions: [Session?] = []
  private var generations: [UInt32] = []
  private var freeSessions: [Int] = []
  private var sessionByConnection: [TCPConnectionID: Int] = [:]
  private var timers = DeadlineQueue()
  let budget: MemoryBudget
  /// Keepalive for the services' connections (RFC 1122 §4.2.3.6), so that a peer that
  /// vanished does not hold its connection for ever.
  public var keepalive: TCPKeepalive?
  /// Sessions accepted, ended by how, and refused.
  public private(set) var counters = ServiceHostCounters()

  /// What a session costs beyond its handler's buffers: its entry and the handler's state.
  public static let sessionCharge = 320

  /// A host with no service yet, charging its sessions to `budget` (the stack's).
  public init(budget: MemoryBudget) {
    self.budget = budget
  }

  /// Connections being served.
  public var sessionCount: Int { sessionByConnection.count }
  /// The services and their ports, in port order.
  public var ports: [(port: UInt16, service: Service)] {
    services.keys.sorted().map { ($0, services[$0]!.service) }
  }

  /// What the HTTP services did, summed over their ports (nil without one).
  public var httpCounters: HTTPServerCounters? {
    var total: HTTPServerCounters?
    for (_, entry) in services {
      guard case .http(let server) = entry.service else { continue }
      total = (total ?? HTTPServerCounters()) + server.counters
    }
    return total
  }

  /// Starts `service` on `port`.
  public mutating func start(_ service: Service, port: UInt16, tcp: inout TCPLayer)
    throws(TCPError)
  {
    let backlog = if case .http = service { 4096 } else { 1024 }
    let listener = try tcp.listen(port: port, backlog: backlog)
    services[port] = (service, listener)
  }

  /// Takes the TCP layer's notifications: accepts the connections waiting on the services'
  /// listeners and steps the sessions that have news. Returns the notifications that are not
  /// the host's (for the application API's waiters).
  public mutating func handle(
    _ notifications: [TCPNotification], tcp: inout TCPLayer, now: Instant
  ) -> [TCPNotification] {
    var others: [TCPNotification] = []
    for notification in notifications {
      switch notification {
      case .connection(let id, _):
        if let index = sessionByConnection[id] {
          step(index, tcp: &tcp, now: now, timerFired: false)
        } else {
          others.append(notification)
        }
      case .listener(let listener):
        if let entry = services[listener.port], entry.listener == listener {
          acceptAll(entry.service, on: listener, tcp: &tcp, now: now)
        } else {
          others.append(notification)
        }
      }
    }
    return others
  }

  /// Steps the sessions whose timers are due.
  public mutating func runTimers(tcp: inout TCPLayer, now: Instant) {
    while let (index, generation) = timers.popDue(now) {
      guard index < sessions.count, generations[index] == generation, sessions[index] != nil
      else { continue }
      sessions[index]!.scheduled = nil
      step(index, tcp: &tcp, now: now, timerFired: true)
    }
  }

  /// When ``runTimers(tcp:now:)`` is next needed.
  public var nextDeadline: Instant? { timers.earliest }

  // MARK: Sessions

  private mutating func acceptAll(
    _ service: Service, on listener: TCPListenerID, tcp: inout TCPLayer, now: Instant
  ) {
    while let id = tcp.accept(listener) {
      guard budget.reserve(TCPServiceHost.sessionCharge, for: .services) else {
        counters.refused += 1
        tcp.abort(id)
        continue
      }
      if let keepalive { try? tcp.setKeepalive(id, keepalive, now: now) }
      let handler = service.makeHandler(now: now)
      let index: Int
      if let reused = freeSessions.popLast() {
        index = reused
      } else {
        index = sessions.count
        sessions.append(nil)
        generations.append(0)
      }
      sessions[index] = Session(connection: id, generation: generations[index], handler: handler)
      sessionByConnection[id] = index
      counters.accepted += 1
      step(index, tcp: &tcp, now: now, timerFired: false)
    }
  }

  /// What a step found.
  enum StepOutcome {
    case open
    case close
    case abort
    /// The connection closed or failed under the handler.
    case gone
  }

  /// Lets the handler send, take what arrived and the end of the stream (and its timer, if it
  /// fired), then does what it asks.
  private mutating func step(_ index: Int, tcp: inout TCPLayer, now: Instant, timerFired: Bool) {
    guard var session = sessions[index] else { return }
    var handler = session.handler
    session.handler = .none  // the handler is not shared while it runs
    var endSeen = session.endSeen
    let outcome =
      tcp.exchange(session.connection, now: now) { input, output -> StepOutcome in
        runStep(&handler, input, &output, now, timerFired, &endSeen)
      } ?? .gone
    session.handler = handler
    session.endSeen = endSeen
    switch outcome {
    case .open:
      sessions[index] = session
      schedule(index, handler.nextDeadline)
    case .close:
      tcp.close(session.connection)
      end(index, session, outcome)
    case .abort:
      tcp.abort(session.connection)
      end(index, session, outcome)
    case .gone:
      tcp.release(session.connection)
      end(index, session, outcome)
    }
  }

  private mutating func schedule(_ index: Int, _ deadline: Instant?) {
    guard let deadline, sessions[index]!.scheduled.map({ deadline < $0 }) ?? true else { return }
    sessions[index]!.scheduled = deadline
    timers.push(deadline, slot: index, generation: generations[index])
  }

  private mutating func end(_ index: Int, _ session: Session, _ outcome: StepOutcome) {
    var handler = session.handler
    handler.finish()
    switch outcome {
    case .close: counters.closed += 1
    case .abort: counters.reset += 1
    case .gone, .open: counters.failed += 1
    }
    budget.release(TCPServiceHost.sessionCharge, for: .services)
    sessionByConnection[session.connection] = nil
    sessions[index] = nil
    generations[index] &+= 1
    freeSessions.append(index)
  }
}

/// One step of a handler over a TCP connection: the timer, pending output, new input, the end
/// of the stream, then the handler's disposition (or the connection's failure).
private func runStep<Handler: ConnectionHandler>(
  _ handler: inout Handler, _ input: TCPStreamInput, _ output: inout TCPStreamOutput,
  _ now: Instant, _ timerFired: Bool, _ endSeen: inout Bool
) -> TCPServiceHost.StepOutcome {
  if timerFired { handler.timerExpired(now: now) }
  if handler.disposition == .open { handler.send(output: &output, now: now) }
  if handler.disposition == .open {
    _ = input.consume { bytes in handler.receive(bytes, output: &output, now: now) }
  }
  if handler.disposition == .open && !endSeen && input.isAtEndOfStream {
    endSeen = true
    handler.receiveEnd(output: &output, now: now)
    if handler.disposition == .open { handler.send(output: &output, now: now) }
  }
  switch handler.disposition {
  case .close: return .close
  case .abort: return .abort
  case .open: return input.error != nil || input.isClosed ? .gone : .open
  }
}

/// What the service host did with connections.
public struct ServiceHostCounters: CounterGroup, Equatable, Sendable {
  public static let groupName: StaticString = "services"

  /// Connections accepted and given a handler.
  public var accepted: UInt64 = 0
  /// Sessions that ended with a close (FIN).
  public var closed: UInt64 = 0
  /// Sessions the handler reset (a timeout, a client gone).
  public var reset: UInt64 = 0
  /// Sessions whose connection failed or was reset by the peer.
  public var failed: UInt64 = 0
  /// Connections reset at once: the memory budget had no room for their session.
  public var refused: UInt64 = 0

  /// All zero.
  public init() {}

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("accepted", accepted)
    body("closed", closed)
    body("reset", reset)
    body("failed", failed)
    body("refused", refused)
  }
}

/// A service writes into a TCP connection's send buffer.
extension TCPStreamOutput: ConnectionOutput {}
