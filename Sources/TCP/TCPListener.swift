import NetCore

/// A passive open on one port (RFC 9293 §3.10.1 OPEN with the passive flag): the queue of
/// established connections waiting for `accept`, and a count of half-open ones, each
/// bounded (Linux's accept backlog and SYN backlog).
final class TCPListener {
  let port: UInt16
  /// The local address it accepts connections on; nil for any of ours, of either family.
  let address: IPAddress?
  /// Established connections not yet accepted.
  var acceptQueue: BoundedQueue<TCPConnectionID>
  /// Connections in SYN-RECEIVED for this listener.
  var halfOpen = 0

  init(port: UInt16, address: IPAddress?, backlog: Int) {
    self.port = port
    self.address = address
    acceptQueue = BoundedQueue(limit: max(backlog, 1))
  }
}
