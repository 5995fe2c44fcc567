import NetCore

/// The connection table's bookkeeping: the one door through which anything that may change a
/// connection reaches it (`touch(_:)`), what happens to a connection after it changed
/// (``settle(_:now:network:)``: it sends what is due, and is handed to its listener, retired
/// or re-armed), and slots taken and freed.
extension TCPLayer {
  /// The door to a connection for everything that may change it (an application call, a
  /// received segment, a timer): marks its slot touched, so that the next
  /// ``flush(now:network:)`` lets the connection work out from its state what the change made
  /// due (its `output(now:network:)` decides: an ACK, a window update, data, FIN, a probe, a
  /// RST). No caller has to remember to queue output. Nil if `id` names no connection.
  mutating func touch(_ id: TCPConnectionID) -> TCPConnection? {
    guard let connection = connection(id) else { return nil }
    markTouched(id.slot)
    return connection
  }

  /// Marks a slot as changed since it last settled, once.
  private mutating func markTouched(_ slot: Int) {
    guard !slots[slot].touched else { return }
    slots[slot].touched = true
    touchedCount += 1
    touchedSlots.append(slot)
  }

  /// After anything happened to a connection: send what is due, move it to TIME-WAIT or free
  /// it when it is finished, hand it to its listener when established, re-arm its timer, and
  /// note its events for the application. The slot is no longer touched: what was due went.
  mutating func settle<Network: TransportNetwork>(_ slot: Int, now: Instant, network: inout Network)
  {
    if slots[slot].touched {
      slots[slot].touched = false
      touchedCount -= 1
    }
    guard let (id, connection) = occupant(ofSlot: slot) else { return }
    connection.output(now: now, network: &network)
    if case .listener(let port) = slots[slot].owner {
      handOver(id, connection, to: port, now: now, network: &network)
    }
    switch connection.state {
    case .timeWait, .closed:
      if retire(id, connection, now: now) { return }
    default:
      scheduleTimer(id, connection)
    }
    if !connection.events.isEmpty { queueNotification(slot) }
  }

  /// A listener's connection that completed its handshake joins the accept queue (or is reset
  /// when the queue is full); one that closed before leaves the listener's half-open count.
  private mutating func handOver<Network: TransportNetwork>(
    _ id: TCPConnectionID, _ connection: TCPConnection, to port: UInt16, now: Instant,
    network: inout Network
  ) {
    let slot = id.slot
    if connection.events.contains(.established), let listener = listeners[port] {
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

  /// A connection that reached TIME-WAIT (replaced by a small record) or CLOSED leaves the
  /// tuple table; its slot is freed unless the application still holds the handle. Returns
  /// whether the slot was freed.
  private mutating func retire(_ id: TCPConnectionID, _ connection: TCPConnection, now: Instant)
    -> Bool
  {
    let slot = id.slot
    // The tuple's entry is this connection's unless a new connection of the same tuple has
    // replaced it since (its peer opened it again while the application held this one).
    if slotByTuple[connection.tuple] == slot {
      if connection.state == .timeWait {
        enterTimeWait(connection, now: now)
      } else {
        slotByTuple[connection.tuple] = nil
        shared.counters.connectionsClosed += 1
        connectionCount -= 1
      }
    }
    if case .application = slots[slot].owner { return false }
    free(slot)
    return true
  }

  /// Queues the connection's next deadline, unless an earlier one is queued already.
  private mutating func scheduleTimer(_ id: TCPConnectionID, _ connection: TCPConnection) {
    let slot = id.slot
    guard let deadline = connection.nextDeadline,
      slots[slot].scheduled.map({ deadline < $0 }) ?? true
    else { return }
    slots[slot].scheduled = deadline
    timers.push(deadline, slot: slot, generation: id.generation)
  }

  /// Notes that the connection has events for ``takeNotifications()``, once.
  mutating func queueNotification(_ slot: Int) {
    guard !slots[slot].notificationQueued else { return }
    slots[slot].notificationQueued = true
    pendingNotifications.append(slot)
  }

  /// Replaces a connection that reached TIME-WAIT by a small record (its last ACK was sent).
  private mutating func enterTimeWait(_ connection: TCPConnection, now: Instant) {
    slotByTuple[connection.tuple] = nil
    connectionCount -= 1
    shared.counters.connectionsClosed += 1
    timeWait.insert(
      TCPTimeWaitTable.Entry(
        tuple: connection.tuple, sendNext: connection.sender.next,
        receiveNext: connection.receiver.next,
        timestampRecent: connection.timestampsEnabled ? connection.timestampRecent : nil,
        timestampOffset: connection.timestampOffset,
        receiveWindowShift: connection.receiveWindowShift,
        expires: now + configuration.timeWaitDuration))
  }

  /// Puts a new connection in the table, touched (its SYN or SYN-ACK is due); its state was
  /// reserved by ``reserveConnection()``.
  mutating func insert(_ connection: TCPConnection, owner: Owner) -> TCPConnectionID {
    // The table is unbounded here: the connection limit is checked before (reserveConnection).
    let id = connections.insert(connection)!
    let slot = id.slot
    while slots.count <= slot { slots.append(Slot()) }
    slots[slot].owner = owner
    slots[slot].scheduled = nil
    slots[slot].waitingForMemory = false
    slotByTuple[connection.tuple] = slot
    connectionCount += 1
    markTouched(slot)
    return id
  }

  /// Frees a slot whose connection is finished and no longer anyone's.
  mutating func free(_ slot: Int) {
    if let (id, connection) = occupant(ofSlot: slot) {
      if slotByTuple[connection.tuple] == slot {
        slotByTuple[connection.tuple] = nil
        connectionCount -= 1
      }
      shared.budget.release(TCPConnection.stateCharge, for: .tcpConnections)
      connections.remove(id)
    }
    slots[slot].scheduled = nil
    slots[slot].owner = .released
  }
}
