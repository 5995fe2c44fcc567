import NetCore

/// TCP for one stack: the table of connections by 4-tuple, listeners, the TIME-WAIT table,
/// and the application calls (RFC 9293 §3.10 "event processing": OPEN, SEND, RECEIVE, CLOSE,
/// ABORT).
///
/// Sans-IO like every layer: segments come in through ``input(_:segment:now:network:)``,
/// timers run in ``poll(now:network:)``, and what received segments and the application made
/// due goes out in ``flush(now:network:)`` (a runtime calls it after each batch of received
/// frames and application calls); everything is sent through the `TransportNetwork` the caller
/// passes.
/// Every table is bounded: connections, TIME-WAIT records, each listener's queues.
///
/// The layer is a connection's only owner: code outside the module names a connection by its
/// ``TCPConnectionID`` and reads it through ``info(_:)`` and the small accessors. Inside, every
/// call that may change a connection reaches it through `touch(_:)`, which marks it; the
/// flush asks each marked connection what its new state makes due (output is pulled, not
/// pushed by each caller).
///
/// The code is split by concern: this file holds the tables, the handles and the running;
/// `TCPLayer+Application.swift` the application calls; `TCPLayer+Slots.swift` the slot
/// bookkeeping (touch, settle, free); `TCPLayer+Memory.swift` the memory budget;
/// `TCPLayer+Input.swift` received segments, with LISTEN, CLOSED and TIME-WAIT.
public struct TCPLayer {
  /// Who is responsible for freeing a connection's slot.
  enum Owner {
    /// A listener's; not yet accepted.
    case listener(UInt16)
    /// The application's: it has the handle and must `close` or `abort` it.
    case application
    /// Nobody's: the application closed it; freed when it reaches CLOSED or TIME-WAIT.
    case released
  }

  /// The layer's bookkeeping of a slot of ``connections``, kept by slot number (a slot's
  /// flags say what queues it is in, which outlive the connection that was there).
  struct Slot {
    var owner = Owner.released
    /// The earliest deadline queued for this slot in ``timers``.
    var scheduled: Instant?
    /// Changed since it last settled (see ``TCPLayer/touch(_:)``); queued in
    /// ``TCPLayer/touchedSlots``.
    var touched = false
    /// Queued in ``pendingNotifications``.
    var notificationQueued = false
    /// Queued in ``memoryWaiters``.
    var waitingForMemory = false
  }

  public let configuration: TCPConfiguration
  let shared: TCPSharedState
  /// The connections, reached through the handles applications hold (NetCore's table:
  /// generations make a stale handle find nothing).
  var connections = HandleTable<TCPConnectionID, TCPConnection>()
  /// Per slot of ``connections``: owner, timer and queue flags.
  var slots: [Slot] = []
  var slotByTuple: [TCPFourTuple: Int] = [:]
  var listeners: [UInt16: TCPListener] = [:]
  var timeWait: TCPTimeWaitTable
  /// Guests' SYNs to foreign addresses waiting for a relay's answer; nil unless relaying
  /// (``startRelayingOpens(limit:)``).
  public internal(set) var pendingOpens: TCPPendingOpenTable?
  var timers = DeadlineQueue()
  let sequenceNumbers: InitialSequenceNumberGenerator
  let cookies: SYNCookieGenerator
  let timestampOffsets: SipHash
  var random: PseudoRandomGenerator
  /// Slots touched since they last settled, for the flush (a slot may appear more than once;
  /// only its ``Slot/touched`` mark counts).
  var touchedSlots: [Int] = []
  /// How many slots are marked touched.
  var touchedCount = 0
  var pendingNotifications: [Int] = []
  var listenerNotifications: [UInt16] = []
  /// Connections whose application could not write because the memory budget was spent: told
  /// they are writable once memory is free again.
  var memoryWaiters: [Int] = []
  /// When the next pass that gives back memory under pressure may run.
  var nextReclaim = Instant.zero
  /// Connections in the table (any state but TIME-WAIT and freed).
  public internal(set) var connectionCount = 0

  /// A TCP layer; `seed` keys the ISN and cookie hashes and seeds ephemeral ports (a runtime
  /// passes entropy here). Its buffers are charged to `budget`, which the stack's other
  /// layers share.
  public init(
    configuration: TCPConfiguration = TCPConfiguration(), seed: UInt64,
    budget: MemoryBudget = MemoryBudget()
  ) {
    self.configuration = configuration
    var random = PseudoRandomGenerator(seed: seed)
    sequenceNumbers = InitialSequenceNumberGenerator(key0: random.next(), key1: random.next())
    cookies = SYNCookieGenerator(key0: random.next(), key1: random.next())
    timestampOffsets = SipHash(key0: random.next(), key1: random.next())
    shared = TCPSharedState(budget: budget, seed: random.next())
    self.random = random
    timeWait = TCPTimeWaitTable(limit: configuration.maximumTimeWait)
  }

  /// The memory budget the connections' buffers are charged to.
  public var budget: MemoryBudget { shared.budget }

  /// What TCP received, sent and dropped.
  public var counters: TCPCounters {
    var counters = shared.counters
    counters.timeWaitOverflows = timeWait.overflows
    return counters
  }

  /// Connections in TIME-WAIT.
  public var timeWaitCount: Int { timeWait.count }

  // MARK: Handles

  /// The connection behind `id`, if it is still there: the layer's own door to it (nothing
  /// outside the TCP module holds a connection).
  func connection(_ id: TCPConnectionID) -> TCPConnection? {
    connections[id]
  }

  /// The connection in `slot` now, if any, with its handle.
  func occupant(ofSlot slot: Int) -> (id: TCPConnectionID, connection: TCPConnection)? {
    guard let id = connections.handle(forSlot: slot), let connection = connections[id] else {
      return nil
    }
    return (id, connection)
  }

  /// What the connection behind `id` looks like now; nil once it is gone.
  public func info(_ id: TCPConnectionID) -> TCPConnectionInfo? {
    connection(id)?.info
  }

  /// Every connection in the table with its handle, in slot order.
  public func forEachConnection(_ body: (TCPConnectionID, TCPConnectionInfo) -> Void) {
    connections.forEach { id, connection in body(id, connection.info) }
  }

  /// The connection's state; nil once it is gone.
  public func state(_ id: TCPConnectionID) -> TCPState? { connection(id)?.state }

  /// The connection's addresses and ports; nil once it is gone.
  public func tuple(_ id: TCPConnectionID) -> TCPFourTuple? { connection(id)?.tuple }

  /// Bytes the application can read now (0 once the connection is gone).
  public func readableBytes(_ id: TCPConnectionID) -> Int { connection(id)?.readableBytes ?? 0 }

  /// Bytes the application can write now (0 once the connection is gone).
  public func writableBytes(_ id: TCPConnectionID) -> Int { connection(id)?.writableBytes ?? 0 }

  /// Whether every byte the peer will send has been read: its FIN arrived and nothing is left
  /// (false once the connection is gone).
  public func isAtEndOfStream(_ id: TCPConnectionID) -> Bool {
    connection(id)?.isAtEndOfStream ?? false
  }

  /// Why the connection failed, if it did (nil once it is gone).
  public func error(_ id: TCPConnectionID) -> TCPError? { connection(id)?.error }

  /// Whether a listener is open on `port`.
  public func isListening(_ id: TCPListenerID) -> Bool { listeners[id.port] != nil }

  /// Whether the application still holds the handle (it has not closed, aborted or released it).
  public func isHeldByApplication(_ id: TCPConnectionID) -> Bool {
    guard connection(id) != nil, case .application = slots[id.slot].owner else { return false }
    return true
  }

  /// Ports with a listener.
  public var listeningPorts: [UInt16] { listeners.keys.sorted() }

  // MARK: Running

  /// Sends what received segments and application calls made due (call after each batch of
  /// them): each connection touched since it last settled works out from its state what is
  /// due, and only those: the flush never walks the whole table.
  public mutating func flush<Network: TransportNetwork>(now: Instant, network: inout Network) {
    while let slot = touchedSlots.popLast() {
      guard slots[slot].touched else { continue }  // settled since it was touched
      settle(slot, now: now, network: &network)
    }
    if !memoryWaiters.isEmpty && shared.budget.available >= TCPLayer.memoryToWakeWriters {
      wakeMemoryWaiters()
    }
  }

  /// Runs the timers that are due and expires TIME-WAIT records.
  public mutating func poll<Network: TransportNetwork>(now: Instant, network: inout Network) {
    timeWait.expire(now: now)
    if shared.budget.isUnderPressure && now >= nextReclaim {
      reclaimMemory()
      nextReclaim = now + TCPLayer.reclaimInterval
    }
    while let (slot, generation) = timers.popDue(now) {
      guard let connection = touch(TCPConnectionID(slot: slot, generation: generation)) else {
        continue
      }
      slots[slot].scheduled = nil
      if let deadline = connection.nextDeadline, deadline <= now {
        connection.timersExpire(now: now, network: &network)
      }
      settle(slot, now: now, network: &network)
    }
    flush(now: now, network: &network)
  }

  /// When ``poll(now:network:)`` is next needed.
  public var nextDeadline: Instant? {
    let deadline = Instant.earliest(timers.earliest, timeWait.nextDeadline)
    // Under memory pressure, the next pass that gives memory back.
    return shared.budget.isUnderPressure ? Instant.earliest(deadline, nextReclaim) : deadline
  }

  /// Whether connections were touched since they last settled: ``flush(now:network:)`` has
  /// work.
  public var hasPendingOutput: Bool { touchedCount > 0 }

  /// Whether ``takeNotifications()`` has something.
  public var hasPendingNotifications: Bool {
    !pendingNotifications.isEmpty || !listenerNotifications.isEmpty
  }

  /// Takes what the application side should react to since the last call.
  public mutating func takeNotifications() -> [TCPNotification] {
    var notifications: [TCPNotification] = []
    for slot in pendingNotifications {
      slots[slot].notificationQueued = false
      guard let (id, connection) = occupant(ofSlot: slot) else { continue }
      let events = connection.takeEvents()
      if !events.isEmpty { notifications.append(.connection(id, events)) }
    }
    pendingNotifications.removeAll(keepingCapacity: true)
    for port in listenerNotifications where listeners[port] != nil {
      notifications.append(.listener(TCPListenerID(port: port)))
    }
    listenerNotifications.removeAll(keepingCapacity: true)
    return notifications
  }

  /// Our timestamp offset for a 4-tuple (RFC 7323 §7.1: random per connection; derived from
  /// the tuple so that SYN cookies can recompute it).
  func timestampOffset(for tuple: TCPFourTuple) -> UInt32 {
    UInt32(truncatingIfNeeded: timestampOffsets.hash(tuple.words))
  }
}
