import NetCore

/// The application calls of RFC 9293 §3.10 "event processing" (OPEN, SEND, RECEIVE, CLOSE,
/// ABORT) and the switches of §3.9 (keepalive, Nagle), each on a connection named by its
/// handle. Each reaches the connection through `TCPLayer.touch(_:)`: what the call made due
/// (a window update after a read, data after a write, a FIN, a RST) goes out at the next
/// flush without the call having to say so.
extension TCPLayer {
  /// Listens on `port` (RFC 9293 §3.10.1, passive OPEN) with room for `backlog` connections
  /// waiting to be accepted. With no `address` (or an unspecified one) the listener takes
  /// connections to any of our addresses, IPv4 and IPv6 alike; with one, only to it.
  public mutating func listen(port: UInt16, address: IPAddress? = nil, backlog: Int = 128)
    throws(TCPError) -> TCPListenerID
  {
    guard port != 0, listeners[port] == nil else { throw .addressInUse }
    listeners[port] = TCPListener(
      port: port, address: address?.isUnspecified == true ? nil : address, backlog: backlog)
    return TCPListenerID(port: port)
  }

  /// Stops listening; connections not yet accepted are reset.
  public mutating func stopListening(_ id: TCPListenerID) {
    guard let listener = listeners.removeValue(forKey: id.port) else { return }
    var queue = listener.acceptQueue
    while let connectionID = queue.popFirst() {
      if let connection = touch(connectionID) {
        connection.abort()
        slots[connectionID.slot].owner = .released
      }
    }
    for slot in slots.indices {
      guard case .listener(id.port) = slots[slot].owner,
        let occupant = occupant(ofSlot: slot), let connection = touch(occupant.id)
      else { continue }
      connection.abort()
      slots[slot].owner = .released
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
  /// ephemeral port and the source address the network chooses towards it; the SYN goes out
  /// at once, its MSS from the network's payload limit to that destination.
  public mutating func connect<Network: TransportNetwork>(
    to address: IPAddress, port: UInt16, now: Instant, network: inout Network
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
      maximumPayload: network.maximumPayloadSize(to: address), configuration: configuration,
      shared: shared,
      timestampOffset: timestampOffset(for: tuple), now: now)
    let id = insert(connection, owner: .application)
    shared.counters.activeOpens += 1
    settle(id.slot, now: now, network: &network)
    return id
  }

  /// Queues bytes to send on the connection; returns how many fit (up to
  /// ``writableBytes(_:)``, and what the memory budget allows).
  ///
  /// The calls that move data (this one, ``read(_:into:now:)``, ``consume(_:now:_:)``,
  /// ``discard(_:_:now:)``) only look at a connection that has nothing for them (no room, no
  /// data): such a call changes nothing, so it does not touch the connection, and a runtime
  /// that polls them in a loop does not keep the layer busy.
  public mutating func write(_ id: TCPConnectionID, _ bytes: Span<UInt8>) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let room = connection.writableBytes
    guard room > 0, !bytes.isEmpty else {
      try connection.checkWritable()
      return 0
    }
    let written = try touch(id)!.write(bytes)
    if written < min(room, bytes.count) { waitForMemory(id.slot) }
    return written
  }

  /// Queues bytes to send by holding the application's array instead of copying it (the
  /// slice shares its storage; copy-on-write keeps it as it was if the application changes
  /// it later); returns how many were taken, as ``write(_:_:)`` does. The bytes are copied
  /// once, into their segments. Room for fewer than `TCPSendBuffer.minimumHeld` bytes is
  /// filled by a copy, or, while that many wait for the peer already, left for a later write
  /// (0 is returned; the acknowledgment that makes room notifies the connection writable).
  public mutating func write(_ id: TCPConnectionID, holding bytes: ArraySlice<UInt8>)
    throws(TCPError) -> Int
  {
    guard let connection = connection(id) else { throw .invalidHandle }
    let room = connection.writableBytes
    guard room > 0, !bytes.isEmpty else {
      try connection.checkWritable()
      return 0
    }
    let outcome = try touch(id)!.write(holding: bytes)
    // Fewer than there was room for, and not deferred: the memory budget refused the rest.
    if outcome != .deferred && outcome.taken < min(room, bytes.count) { waitForMemory(id.slot) }
    return outcome.taken
  }

  /// Lets `body` write up to `maximum` bytes straight into the connection's send buffer (one
  /// contiguous piece of its free space, within ``writableBytes(_:)`` and what the memory
  /// budget allows; `body` is not called when there is no room); returns how many `body`
  /// wrote, which are queued to send. A relay reads a host socket into it with one `recv(2)`.
  public mutating func fill(
    _ id: TCPConnectionID, upTo maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int
  ) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let room = connection.writableBytes
    guard room > 0, maximum > 0 else {
      try connection.checkWritable()
      return 0
    }
    var offered = 0
    let written = try touch(id)!.fill(upTo: maximum) { space in
      offered = space.count
      return body(space)
    }
    // No space at all though the connection had room: the memory budget refused it.
    if offered == 0 { waitForMemory(id.slot) }
    return written
  }

  /// Reads received bytes; returns how many (0: nothing now; see ``isAtEndOfStream(_:)``).
  public mutating func read(
    _ id: TCPConnectionID, into destination: UnsafeMutableRawBufferPointer, now: Instant
  ) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    let count =
      connection.readableBytes > 0 && destination.count > 0
      ? touch(id)!.read(into: destination, now: now) : 0
    if count == 0, let error = connection.error, !connection.receiver.finReceived { throw error }
    return count
  }

  /// Hands received bytes to `body` in place (no copy), in at most two pieces, until it takes
  /// fewer than it was given; returns how many bytes it took.
  public mutating func consume(
    _ id: TCPConnectionID, now: Instant, _ body: (Span<UInt8>) -> Int
  ) throws(TCPError) -> Int {
    guard let connection = connection(id) else { throw .invalidHandle }
    guard connection.readableBytes > 0 else { return 0 }
    return touch(id)!.consume(now: now, body)
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
    guard let connection = touch(id) else { return nil }
    var output = TCPStreamOutput(connection: connection)
    let result = body(TCPStreamInput(connection: connection, now: now), &output)
    if output.refusedForMemory { waitForMemory(id.slot) }
    return result
  }

  /// Drops up to `length` received bytes unread; returns how many.
  public mutating func discard(_ id: TCPConnectionID, _ length: Int, now: Instant) throws(TCPError)
    -> Int
  {
    guard let connection = connection(id) else { throw .invalidHandle }
    guard connection.readableBytes > 0, length > 0 else { return 0 }
    return touch(id)!.discard(length, now: now)
  }

  /// Turns keepalive on (or off, with nil) for one connection (RFC 1122 §4.2.3.6) and
  /// re-arms its timer.
  public mutating func setKeepalive(_ id: TCPConnectionID, _ keepalive: TCPKeepalive?, now: Instant)
    throws(TCPError)
  {
    guard let connection = touch(id) else { throw .invalidHandle }
    connection.keepalive = keepalive
    connection.keepaliveEnabledAt = now  // idle time counts from now, as with Linux's SO_KEEPALIVE
  }

  /// Turns Nagle's algorithm on or off for one connection (the "no delay" switch).
  public mutating func setNagle(_ id: TCPConnectionID, _ enabled: Bool) throws(TCPError) {
    guard let connection = touch(id) else { throw .invalidHandle }
    connection.nagle = enabled
  }

  /// Sends FIN after the queued data; reading goes on (half-close).
  public mutating func shutdownWrite(_ id: TCPConnectionID) throws(TCPError) {
    guard let connection = touch(id) else { throw .invalidHandle }
    connection.shutdownWrite()
  }

  /// Closes the connection and gives up the handle: FIN after the queued data (or RST if
  /// received data was left unread); the stack finishes the close on its own.
  public mutating func close(_ id: TCPConnectionID) {
    guard let connection = touch(id) else { return }
    connection.close()
    slots[id.slot].owner = .released
  }

  /// Resets the connection and gives up the handle.
  public mutating func abort(_ id: TCPConnectionID) {
    guard let connection = touch(id) else { return }
    connection.abort()
    slots[id.slot].owner = .released
  }

  /// Releases the handle of a connection the application is done with (after it has seen
  /// the connection end); frees it if it is finished.
  public mutating func release(_ id: TCPConnectionID) {
    guard let connection = touch(id) else { return }
    slots[id.slot].owner = .released
    if connection.state == .closed || connection.state == .timeWait {
      free(id.slot)
    } else {
      connection.close()
    }
  }
}
