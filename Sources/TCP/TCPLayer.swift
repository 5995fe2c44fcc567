import IPv4
import NetCore

/// TCP for one stack: the table of connections by 4-tuple, listeners, the TIME-WAIT table,
/// and the application calls (RFC 9293 §3.10 "event processing": OPEN, SEND, RECEIVE, CLOSE,
/// ABORT).
///
/// Sans-IO like every layer: segments come in through ``input(_:packet:checksumVerified:now:network:)``,
/// timers run in ``poll(now:network:)``, and what received segments and the application made
/// due goes out in ``flush(now:network:)`` (a runtime calls it after each batch of received
/// frames and application calls); everything is sent through the `IPv4Network` the caller
/// passes.
/// Every table is bounded: connections, TIME-WAIT records, each listener's queues.
///
/// Segment processing for LISTEN, CLOSED and TIME-WAIT is in `TCPLayer+Input.swift`.
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

  struct Slot {
    var generation: UInt32 = 0
    var connection: TCPConnection?
    var owner = Owner.released
    /// The earliest deadline queued for this slot in ``timers``.
    var scheduled: Instant?
    /// Queued in ``pendingOutput``.
    var outputQueued = false
    /// Queued in ``pendingNotifications``.
    var notificationQueued = false
    /// Queued in ``memoryWaiters``.
    var waitingForMemory = false
  }

  public let configuration: TCPConfiguration
  let shared: TCPSharedState
  var slots: [Slot] = []
  var freeSlots: [Int] = []
  var slotByTuple: [TCPFourTuple: Int] = [:]
  var listeners: [UInt16: TCPListener] = [:]
  var timeWait: TCPTimeWaitTable
  var timers = DeadlineQueue()
  let sequenceNumbers: InitialSequenceNumberGenerator
  let cookies: SYNCookieGenerator
  let timestampOffsets: SipHash
  var random: PseudoRandomGenerator
  var pendingOutput: [Int] = []
  var pendingNotifications: [Int] = []
  var listenerNotifications: [UInt16] = []
  /// Connections whose application could not write because the memory budget was spent: told
  /// they are writable once memory is free again.
  var memoryWaiters: [Int] = []
  /// When the next pass that gives back memory under pressure may run.
  var nextReclaim = Instant.zero
  /// Connections in the table (any state but TIME-WAIT and freed).
  public private(set) var connectionCount = 0

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
    guard id.slot >= 0, id.slot < slots.count, slots[id.slot].generation == id.generation else {
      return nil
    }
    return slots[id.slot].connection
  }

  /// What the connection behind `id` looks like now; nil once it is gone.
  public func info(_ id: TCPConnectionID) -> TCPConnectionInfo? {
    connection(id)?.info
  }

  /// Every connection in the table with its handle, in slot order.
  public func forEachConnection(_ body: (TCPConnectionID, TCPConnectionInfo) -> Void) {
    for (slot, entry) in slots.enumerated() {
      if let connection = entry.connection {
        body(TCPConnectionID(slot: slot, generation: entry.generation), connection.info)
      }
    }
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

  // MARK: Application calls

  /// Listens on `port` (RFC 9293 §3.10.1, passive OPEN) with room for `backlog` connections
  /// waiting to be accepted.
  public mutating func listen(port: UInt16, address: IPv4Address? = nil, backlog: Int = 128)
    throws(TCPError) -> TCPListenerID
  {
    guard port != 0, listeners[port] == nil else { throw .addressInUse }
    listeners[port] = TCPListener(
      port: port, address: address == .any ? nil : address, backlog: backlog)
    return TCPListenerID(port: port)
  }

  /// Stops listening; connections not yet accepted are reset.
  public mutating func stopListening(_ id: TCPListenerID) {
    guard let listener = listeners.removeValue(forKey: id.port) else { return }
    var queue = listener.acceptQueue
    while let connectionID = queue.popFirst() {
      if let connection = connection(connectionID) {
        connection.abort()
        slots[connectionID.slot].owner = .released
        queueOutput(connectionID.slot)
      }
    }
    for (slot, entry) in slots.enumerated() {
      if case .listener(id.port) = entry.owner, let connection = entry.connection {
        connection.abort()
        slots[slot].owner = .released
        queueOutput(slot)
      }
    }
  }

  /// The next established connection waiting on the listener, now the application's.
  public mutating func accept(_ id: TCPListenerID) -> TCPConnectionID? {
    guard let listener = listeners[id.port] else { return nil }
    while let connectionID = listener.acceptQueue.popFirst() {
      guard connection(connectionID) != nil else { continue }
      slots[connectionID.slot].owner = .application
      return connectionID
    }
    return nil
  }

  /// Whether the listener has a connection to accept.
  public func hasPendingConnection(_ id: TCPListenerID) -> Bool {
    !(listeners[id.port]?.acceptQueue.isEmpty ?? true)
  }

  /// Opens a connection to `address`:`port` (RFC 9293 §3.10.1, active OPEN) from an
  /// ephemeral port; the SYN goes out at once.
  public mutating func connect<Network: IPv4Network>(
    to address: IPv4Address, port: UInt16, now: Instant, network: inout Network
  ) throws(TCPError) -> TCPConnectionID {
    guard connectionCount < configuration.maximumConnections else { throw .tooManyConnections }
    guard address.isUnicast, let source = network.sourceAddress(for: address), !source.isUnspecified
    else {
      throw .noRoute
    }
    // A port whose tuple is neither open, nor in TIME-WAIT, nor a listener's.
    let (open, waiting, listening) = (slotByTuple, timeWait, listeners)
    func tuple(_ localPort: UInt16) -> TCPFourTuple {
      TCPFourTuple(
        localAddress: source, localPort: localPort, remoteAddress: address, remotePort: port)
    }
    guard
      let localPort = EphemeralPorts(configuration.ephemeralPorts).pick(
        using: &random,
        isFree: {
          open[tuple($0)] == nil && waiting.entry(for: tuple($0)) == nil && listening[$0] == nil
        })
    else { throw .addressInUse }
    let tuple = tuple(localPort)
    guard reserveConnection() else { throw .noMemory }
    let connection = TCPConnection(
      activeOpen: tuple, initialSequence: sequenceNumbers.isn(for: tuple, now: now),
      maximumPayload: network.maximumPayloadSize, configuration: configuration, shared: shared,
      timestampOffset: timestampOffset(for: tuple), now: now)
    let id = insert(connection, owner: .application)
    shared.counters.activeOpens += 1
    settle(id.slot, now: now, network: &network)
    return id
  }

  /// Queues bytes to send on the connection; returns how many fit (up to
  /// ``writableBytes(_:)``, and what the memory budget allows).
  public mutating func write(_ id: TCPConnectionID, _ bytes: Span<UInt8>) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let room = connection.writableBytes
    let written = try connection.write(bytes)
    if written > 0 { queueOutput(id.slot) }
    if written < min(room, bytes.count) { waitForMemory(id.slot) }
    return written
  }

  /// Reads received bytes; returns how many (0: nothing now; see ``isAtEndOfStream(_:)``).
  public mutating func read(
    _ id: TCPConnectionID, into destination: UnsafeMutableRawBufferPointer, now: Instant
  ) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let count = connection.read(into: destination, now: now)
    if connection.acknowledgmentNeeded { queueOutput(id.slot) }
    if count == 0, let error = connection.error, !connection.finReceived { throw error }
    return count
  }

  /// Hands received bytes to `body` in place (no copy), in at most two pieces, until it takes
  /// fewer than it was given; returns how many bytes it took.
  public mutating func consume(
    _ id: TCPConnectionID, now: Instant, _ body: (Span<UInt8>) -> Int
  ) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let count = connection.consume(now: now, body)
    if connection.acknowledgmentNeeded { queueOutput(id.slot) }
    return count
  }

  /// Lends the connection's data path to a service for one step: `body` reads received bytes
  /// in place through the input and writes through the output (both at once: an echo copies
  /// from the receive buffer straight into the send buffer). What the step made due (ACKs,
  /// window updates, data) goes out at the next flush. Returns nil if `id` names no
  /// connection.
  public mutating func exchange<Result>(
    _ id: TCPConnectionID, now: Instant,
    _ body: (TCPStreamInput, inout TCPStreamOutput) -> Result
  ) -> Result? {
    guard let connection = connection(id) else { return nil }
    var output = TCPStreamOutput(connection: connection)
    let result = body(TCPStreamInput(connection: connection, now: now), &output)
    queueOutput(id.slot)
    if output.refusedForMemory { waitForMemory(id.slot) }
    return result
  }

  /// Drops up to `length` received bytes unread; returns how many.
  public mutating func discard(_ id: TCPConnectionID, _ length: Int, now: Instant) throws(TCPError)
    -> Int
  {
    guard let connection = connection(id) else { throw .invalidHandle }
    let count = connection.discard(length, now: now)
    if connection.acknowledgmentNeeded { queueOutput(id.slot) }
    return count
  }

  /// Turns keepalive on (or off, with nil) for one connection (RFC 1122 §4.2.3.6) and
  /// re-arms its timer.
  public mutating func setKeepalive(_ id: TCPConnectionID, _ keepalive: TCPKeepalive?, now: Instant)
    throws(TCPError)
  {
    guard let connection = connection(id) else { throw .invalidHandle }
    connection.keepalive = keepalive
    connection.keepaliveEnabledAt = now  // idle time counts from now, as with Linux's SO_KEEPALIVE
    queueOutput(id.slot)
  }

  /// Turns Nagle's algorithm on or off for one connection (the "no delay" switch).
  public mutating func setNagle(_ id: TCPConnectionID, _ enabled: Bool) throws(TCPError) {
    guard let connection = connection(id) else { throw .invalidHandle }
    connection.nagle = enabled
    queueOutput(id.slot)
  }

  /// Sends FIN after the queued data; reading goes on (half-close).
  public mutating func shutdownWrite(_ id: TCPConnectionID) throws(TCPError) {
    guard let connection = connection(id) else { throw .invalidHandle }
    connection.shutdownWrite()
    queueOutput(id.slot)
  }

  /// Closes the connection and gives up the handle: FIN after the queued data (or RST if
  /// received data was left unread); the stack finishes the close on its own.
  public mutating func close(_ id: TCPConnectionID) {
    guard let connection = connection(id) else { return }
    connection.close()
    slots[id.slot].owner = .released
    queueOutput(id.slot)
  }

  /// Resets the connection and gives up the handle.
  public mutating func abort(_ id: TCPConnectionID) {
    guard let connection = connection(id) else { return }
    connection.abort()
    slots[id.slot].owner = .released
    queueOutput(id.slot)
  }

  // MARK: Running

  /// Sends what received segments and application calls made due (call after each batch of
  /// them).
  public mutating func flush<Network: IPv4Network>(now: Instant, network: inout Network) {
    while let slot = pendingOutput.popLast() {
      slots[slot].outputQueued = false
      settle(slot, now: now, network: &network)
    }
    if !memoryWaiters.isEmpty && shared.budget.available >= TCPLayer.memoryToWakeWriters {
      wakeMemoryWaiters()
    }
  }

  /// Runs the timers that are due and expires TIME-WAIT records.
  public mutating func poll<Network: IPv4Network>(now: Instant, network: inout Network) {
    timeWait.expire(now: now)
    if shared.budget.isUnderPressure && now >= nextReclaim {
      reclaimMemory()
      nextReclaim = now + TCPLayer.reclaimInterval
    }
    while let (slot, generation) = timers.popDue(now) {
      guard slots[slot].generation == generation, let connection = slots[slot].connection else {
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

  /// Whether application calls left output to ``flush(now:network:)``.
  public var hasPendingOutput: Bool { !pendingOutput.isEmpty }

  /// Whether ``takeNotifications()`` has something.
  public var hasPendingNotifications: Bool {
    !pendingNotifications.isEmpty || !listenerNotifications.isEmpty
  }

  /// Takes what the application side should react to since the last call.
  public mutating func takeNotifications() -> [TCPNotification] {
    var notifications: [TCPNotification] = []
    for slot in pendingNotifications {
      slots[slot].notificationQueued = false
      guard let connection = slots[slot].connection else { continue }
      let events = connection.takeEvents()
      if !events.isEmpty {
        notifications.append(
          .connection(TCPConnectionID(slot: slot, generation: slots[slot].generation), events))
      }
    }
    pendingNotifications.removeAll(keepingCapacity: true)
    for port in listenerNotifications where listeners[port] != nil {
      notifications.append(.listener(TCPListenerID(port: port)))
    }
    listenerNotifications.removeAll(keepingCapacity: true)
    return notifications
  }

  // MARK: Bookkeeping

  /// After anything happened to a connection: send what is due, move it to TIME-WAIT or free
  /// it when it is finished, hand it to its listener when established, re-arm its timer, and
  /// note its events for the application.
  mutating func settle<Network: IPv4Network>(_ slot: Int, now: Instant, network: inout Network) {
    guard let connection = slots[slot].connection else { return }
    connection.output(now: now, network: &network)
    let id = TCPConnectionID(slot: slot, generation: slots[slot].generation)
    let events = connection.events

    if case .listener(let port) = slots[slot].owner {
      if events.contains(.established), let listener = listeners[port] {
        listener.halfOpen = max(listener.halfOpen - 1, 0)
        if listener.acceptQueue.append(id) {
          listenerNotifications.append(port)
          shared.counters.passiveOpens += 1
        } else {
          shared.counters.listenOverflows += 1
          connection.abort()
          connection.output(now: now, network: &network)
          slots[slot].owner = .released
        }
        connection.events.remove(.established)
      } else if connection.state == .closed {
        listeners[port].map { $0.halfOpen = max($0.halfOpen - 1, 0) }
        slots[slot].owner = .released
      }
    }

    switch connection.state {
    case .timeWait:
      if slotByTuple[connection.tuple] == slot { enterTimeWait(connection, now: now) }
      if case .application = slots[slot].owner {
      } else {
        free(slot)
        return
      }
    case .closed:
      // The tuple's entry is this connection's unless a new connection of the same tuple has
      // replaced it since (its peer opened it again while the application held this one).
      if slotByTuple[connection.tuple] == slot {
        slotByTuple[connection.tuple] = nil
        shared.counters.connectionsClosed += 1
        connectionCount -= 1
      }
      if case .application = slots[slot].owner {
      } else {
        free(slot)
        return
      }
    default:
      if let deadline = connection.nextDeadline,
        slots[slot].scheduled.map({ deadline < $0 }) ?? true
      {
        slots[slot].scheduled = deadline
        timers.push(deadline, slot: slot, generation: slots[slot].generation)
      }
    }
    if !connection.events.isEmpty && !slots[slot].notificationQueued {
      slots[slot].notificationQueued = true
      pendingNotifications.append(slot)
    }
  }

  /// Replaces a connection that reached TIME-WAIT by a small record (its last ACK was sent).
  private mutating func enterTimeWait(_ connection: TCPConnection, now: Instant) {
    slotByTuple[connection.tuple] = nil
    connectionCount -= 1
    shared.counters.connectionsClosed += 1
    timeWait.insert(
      TCPTimeWaitTable.Entry(
        tuple: connection.tuple, sendNext: connection.sendNext, receiveNext: connection.receiveNext,
        timestampRecent: connection.timestampsEnabled ? connection.timestampRecent : nil,
        timestampOffset: connection.timestampOffset,
        receiveWindowShift: connection.receiveWindowShift,
        expires: now + configuration.timeWaitDuration))
  }

  /// Puts a connection in the table; its state was reserved by ``reserveConnection()``.
  mutating func insert(_ connection: TCPConnection, owner: Owner) -> TCPConnectionID {
    let slot: Int
    if let reused = freeSlots.popLast() {
      slot = reused
    } else {
      slot = slots.count
      slots.append(Slot())
    }
    slots[slot].connection = connection
    slots[slot].owner = owner
    slots[slot].scheduled = nil
    slots[slot].waitingForMemory = false
    slotByTuple[connection.tuple] = slot
    connectionCount += 1
    return TCPConnectionID(slot: slot, generation: slots[slot].generation)
  }

  /// Frees a slot whose connection is finished and no longer anyone's.
  private mutating func free(_ slot: Int) {
    if let connection = slots[slot].connection, slotByTuple[connection.tuple] == slot {
      slotByTuple[connection.tuple] = nil
      connectionCount -= 1
    }
    if slots[slot].connection != nil {
      shared.budget.release(TCPConnection.stateCharge, for: .tcpConnections)
    }
    slots[slot].connection = nil
    slots[slot].generation &+= 1
    slots[slot].scheduled = nil
    slots[slot].owner = .released
    freeSlots.append(slot)
  }

  /// Releases the handle of a connection the application is done with (after it has seen
  /// the connection end); frees it if it is finished.
  public mutating func release(_ id: TCPConnectionID) {
    guard let connection = connection(id) else { return }
    slots[id.slot].owner = .released
    if connection.state == .closed || connection.state == .timeWait {
      free(id.slot)
    } else {
      connection.close()
      queueOutput(id.slot)
    }
  }

  // MARK: Memory

  /// Free memory that wakes writers the budget turned away.
  static let memoryToWakeWriters = 64 * 1024
  /// How often, under memory pressure, connections give back what they can.
  static let reclaimInterval = Interval.milliseconds(100)

  /// Admits a new connection if the memory budget allows one (below its admission level) and
  /// reserves its state (``TCPConnection/stateCharge``, given back when its slot is freed);
  /// counts a refusal.
  mutating func reserveConnection() -> Bool {
    guard shared.budget.admitsNewWork,
      shared.budget.reserve(TCPConnection.stateCharge, for: .tcpConnections)
    else {
      shared.counters.connectionsRefusedMemory += 1
      return false
    }
    return true
  }

  /// Remembers a connection whose application could not write for want of memory.
  private mutating func waitForMemory(_ slot: Int) {
    guard !slots[slot].waitingForMemory else { return }
    slots[slot].waitingForMemory = true
    memoryWaiters.append(slot)
  }

  /// Tells the connections the budget turned away that they may write again.
  private mutating func wakeMemoryWaiters() {
    for slot in memoryWaiters where slots[slot].waitingForMemory {
      slots[slot].waitingForMemory = false
      guard let connection = slots[slot].connection else { continue }
      connection.events.insert(.writable)
      if !slots[slot].notificationQueued {
        slots[slot].notificationQueued = true
        pendingNotifications.append(slot)
      }
    }
    memoryWaiters.removeAll(keepingCapacity: true)
  }

  /// Under memory pressure, what every connection can give back without losing data it
  /// acknowledged: its out-of-order data (the sender still has it; RFC 2018 §8 lets a receiver
  /// renege on SACKed data) and the storage its buffers no longer need (Linux `tcp_prune_queue`
  /// and `sk_mem_reclaim`).
  mutating func reclaimMemory() {
    shared.counters.memoryReclaims += 1
    for entry in slots {
      guard let connection = entry.connection else { continue }
      let pruned = connection.receiveBuffer.pruneOutOfOrder()
      shared.counters.outOfOrderBytesPruned += UInt64(pruned)
      connection.receiveBuffer.shrinkToFit()
      connection.sendBuffer.shrinkToFit()
    }
  }

  mutating func queueOutput(_ slot: Int) {
    guard !slots[slot].outputQueued else { return }
    slots[slot].outputQueued = true
    pendingOutput.append(slot)
  }

  /// Our timestamp offset for a 4-tuple (RFC 7323 §7.1: random per connection; derived from
  /// the tuple so that SYN cookies can recompute it).
  func timestampOffset(for tuple: TCPFourTuple) -> UInt32 {
    let (first, second) = tuple.words
    return UInt32(truncatingIfNeeded: timestampOffsets.hash(first, second))
  }
}
