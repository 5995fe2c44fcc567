/// What the host side of the TCP relay did with the guests' opens and connections.
public struct HostTCPRelayCounters: Sendable, Equatable {
  /// Host connections established (the guest's handshake then completed).
  public var opened: UInt64 = 0
  /// Opens the destination refused (ECONNREFUSED, or reset during connect): RST to the guest.
  public var refused: UInt64 = 0
  /// Opens whose destination was unreachable (EHOSTUNREACH, ENETUNREACH, no answer in time):
  /// ICMP destination unreachable to the guest.
  public var unreachable: UInt64 = 0
  /// Of the unreachable ones, those whose `connect()` timed out.
  public var connectTimeouts: UInt64 = 0
  /// Opens refused (RST) because ``HostTCPRelay/maximumFlows`` flows were open.
  public var refusedFlowLimit: UInt64 = 0
  /// Host sockets that could not be made (out of descriptors) or failed otherwise: RST.
  public var socketFailures: UInt64 = 0
  /// Opens the guest gave up (its RST) or the stack could not admit after the host connected.
  public var opensAbandoned: UInt64 = 0
  /// Connections the guest reset (or that timed out on the guest's side): host socket reset.
  public var resetByGuest: UInt64 = 0
  /// Connections the host reset: RST to the guest.
  public var resetByHost: UInt64 = 0
  /// Connections that ended with both sides closed.
  public var closed: UInt64 = 0
  /// Flows half-closed and idle for ``HostTCPRelay/halfClosedTimeout``: both sides reset.
  public var halfClosedTimeouts: UInt64 = 0
  /// Of those the guest side ended, those the stack gave up on: keepalive unanswered, the
  /// user timeout, or retransmissions (`tcp.connections_timed_out` counts them too).
  public var guestTimeouts: UInt64 = 0
  /// Of those the host side ended, those its kernel gave up on (`ETIMEDOUT`: keepalive
  /// unanswered, the user timeout, or retransmissions).
  public var hostTimeouts: UInt64 = 0

  public init() {}

  /// Name and value of each counter.
  public var all: [(name: String, value: UInt64)] {
    [
      ("opened", opened), ("refused", refused), ("unreachable", unreachable),
      ("connect_timeouts", connectTimeouts), ("refused_flow_limit", refusedFlowLimit),
      ("socket_failures", socketFailures), ("opens_abandoned", opensAbandoned),
      ("reset_by_guest", resetByGuest), ("reset_by_host", resetByHost), ("closed", closed),
      ("half_closed_timeouts", halfClosedTimeouts), ("guest_timeouts", guestTimeouts),
      ("host_timeouts", hostTimeouts),
    ]
  }
}
