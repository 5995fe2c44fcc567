import NetCore

/// One connection's data path, lent to a service for one step by
/// `TCPLayer.exchange(_:now:_:)`: received bytes read in place (``TCPStreamInput``) and room
/// to write (``TCPStreamOutput``). The layer marks the connection touched before it lends it,
/// so what the step made due goes out at the next flush without the service asking.
public struct TCPStreamInput {
  let connection: TCPConnection
  let now: Instant

  /// Hands received bytes to `body` in place (in at most two pieces) until it takes fewer than
  /// it was given; returns how many it took. No copy: the bytes are the receive buffer's.
  public func consume(_ body: (Span<UInt8>) -> Int) -> Int {
    connection.consume(now: now, body)
  }

  /// Bytes waiting to be read.
  public var readableBytes: Int { connection.readableBytes }
  /// Every byte the peer will send has been read (its FIN arrived).
  public var isAtEndOfStream: Bool { connection.isAtEndOfStream }
  /// Why the connection failed, if it did.
  public var error: TCPError? { connection.error }
  /// The connection is over: CLOSED or TIME-WAIT.
  public var isClosed: Bool { connection.state == .closed || connection.state == .timeWait }
}

/// Where a service writes during `TCPLayer.exchange(_:now:_:)`: the connection's send buffer.
public struct TCPStreamOutput {
  let connection: TCPConnection
  /// A write got less than the send buffer's target allowed: the memory budget refused it.
  var refusedForMemory = false

  /// Queues bytes to send; returns how many were taken (up to the send buffer's target and
  /// what the memory budget allows; 0 once the connection can send no more).
  public mutating func write(_ bytes: Span<UInt8>) -> Int {
    let room = connection.writableBytes
    guard room > 0 else { return 0 }
    let written = (try? connection.write(bytes)) ?? 0
    if written < min(room, bytes.count) { refusedForMemory = true }
    return written
  }

  /// Queues bytes to send by holding the array instead of copying it (room for fewer than
  /// `TCPSendBuffer.minimumHeld` bytes is filled by a copy, or left for a later write while
  /// that many wait for the peer); returns how many were taken, as ``write(_:)`` does.
  public mutating func write(holding bytes: ArraySlice<UInt8>) -> Int {
    let room = connection.writableBytes
    guard room > 0 else { return 0 }
    guard let outcome = try? connection.write(holding: bytes) else { return 0 }
    if outcome != .deferred && outcome.taken < min(room, bytes.count) { refusedForMemory = true }
    return outcome.taken
  }

  /// Bytes the send buffer takes now.
  public var writableBytes: Int { connection.writableBytes }
}
