/// A service's side of one UDP port as a state machine with no I/O (ARCHITECTURE.md §12): a
/// datagram and its source in; nothing, or a datagram to send, out. It is written once and
/// driven by whatever carries the datagrams: the stack's own loop over its UDP layer
/// (netstackd's direct backend and the unikernel, `UDPServiceHost`), or a task over a host
/// socket (`--backend socket`, `DatagramServiceTask`).
///
/// A handler never blocks and never reads a clock; it counts what it did itself.
public protocol DatagramHandler {
  /// The port it serves, which the driver binds.
  var port: UInt16 { get }

  /// Takes a datagram that arrived on ``port``; returns the datagram to send from ``port``
  /// in answer, or nil for none.
  mutating func receive(_ datagram: Datagram) -> Datagram?
}
