import NetCore

/// A handle to a connection in a `TCPLayer`: a slot and the generation of its occupant, so
/// that a stale handle never reaches the slot's next connection.
public struct TCPConnectionID: TableHandle {
  public let slot: Int
  public let generation: UInt32

  public init(slot: Int, generation: UInt32) {
    self.slot = slot
    self.generation = generation
  }
}

/// A handle to a listening port in a `TCPLayer`.
public struct TCPListenerID: Hashable, Sendable {
  public let port: UInt16
}

/// Something the application side may want to react to, from `TCPLayer.takeNotifications()`.
public enum TCPNotification: Equatable, Sendable {
  /// The connection has new events (readable, writable, established, closed).
  case connection(TCPConnectionID, TCPConnectionEvents)
  /// The listener has a connection to accept.
  case listener(TCPListenerID)
}
