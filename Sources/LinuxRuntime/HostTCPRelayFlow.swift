import NetCore
import NetworkAPI
import TCP

/// One relayed TCP connection: the guest's side (a connection of the stack whose local
/// address is the destination the guest asked for) spliced to a host socket connected to the
/// real destination, and the bytes that went each way.
public struct HostTCPRelayFlow: Sendable {
  /// Where a flow is in its life.
  public enum State: String, Sendable {
    /// The host socket's `connect()` is under way; the guest's SYN is a pending open.
    case connecting
    /// The destination accepted; the SYN-ACK went to the guest, whose ACK is awaited.
    case handshaking
    /// Bytes flow both ways.
    case open
    /// The guest sent FIN (the host socket was shut down for writing); the host still sends.
    case guestFinished = "guest-finished"
    /// The host sent EOF (the guest got FIN); the guest still sends.
    case hostFinished = "host-finished"
  }

  public let id: UInt64
  /// The guest's open: its address and port, and the destination it asked for.
  public let tuple: TCPFourTuple
  /// Where the host socket connects (the destination, or 127.0.0.1 for the mapped host
  /// loopback).
  public let hostDestination: IPAddress
  public let created: Instant
  public internal(set) var state: State = .connecting
  /// When the host's `connect()` gives up (the guest then gets ICMP host unreachable).
  var connectDeadline: Instant
  var descriptor: Int32
  /// The host socket's local port, once connected.
  public internal(set) var hostPort: UInt16 = 0
  var connection: TCPConnectionID?
  public internal(set) var bytesGuestToHost: UInt64 = 0
  public internal(set) var bytesHostToGuest: UInt64 = 0
  /// When a byte last moved either way (or the flow opened, or one side finished): a
  /// half-closed flow's timeout counts from it.
  public internal(set) var lastActive = Instant.zero
  var guestFinished = false
  var hostFinished = false

  /// The guest's address and port as text (`[v6]:port` for IPv6).
  public var guest: String { SocketAddress(tuple.remoteAddress, tuple.remotePort).description }
  /// The destination the guest asked for, as text.
  public var destination: String {
    SocketAddress(tuple.localAddress, tuple.localPort).description
  }
}
