/// The one memory budget of a stack (ARCHITECTURE.md §13): every buffer a layer or a service
/// holds is charged here before it is allocated, and nothing is allocated past ``limit``.
///
/// What is charged: TCP send, receive and out-of-order data, a fixed amount per TCP connection
/// for its state, UDP receive queues, IPv4 reassembly, packets waiting for a neighbour, frames
/// waiting for the device and the services' own buffers. A charge is the bytes actually
/// allocated (a ring's capacity, not its content), so the budget bounds resident memory.
///
/// Like Linux's `tcp_mem` it has levels (Linux `net/core/sock.c`, `__sk_mem_raise_allocated`):
///
/// - below ``pressureLevel`` (three quarters of the limit) every request that fits is granted;
/// - from ``pressureLevel`` on the stack is *under pressure*: windows stop growing and new ones
///   start small, out-of-order data is dropped and pruned before in-order data, send buffers
///   keep no backlog beyond what is in flight;
/// - from ``admissionLevel`` (seven eighths) new connections are refused, so that the ones
///   that exist keep room to make progress;
/// - at ``limit`` every request is refused: a segment is dropped, a write waits.
///
/// One owner: the stack's loop. Layers share the object; it is a class so that a TCP
/// connection's buffers and the UDP layer can charge the same budget.
public final class MemoryBudget {
  /// What a charge is for, for the status report.
  public enum Use: Int, CaseIterable, Sendable {
    /// TCP connection state (a fixed amount per connection).
    case tcpConnections
    /// Unacknowledged and unsent data of TCP connections.
    case tcpSend
    /// Received in-order data waiting for the application.
    case tcpReceive
    /// Received out-of-order data waiting for the gap before it to fill.
    case tcpOutOfOrder
    /// Datagrams waiting in UDP endpoints' queues.
    case udpQueues
    /// IPv4 datagrams being reassembled.
    case reassembly
    /// Packets waiting for a neighbour's link-layer address.
    case neighbourQueues
    /// Frames waiting for the device.
    case deviceQueue
    /// Buffers of the services (HTTP request heads, echo's pending bytes, files being sent).
    case services

    /// The name in reports: `tcp_send`, ...
    public var name: String {
      switch self {
      case .tcpConnections: "tcp_connections"
      case .tcpSend: "tcp_send"
      case .tcpReceive: "tcp_receive"
      case .tcpOutOfOrder: "tcp_out_of_order"
      case .udpQueues: "udp_queues"
      case .reassembly: "reassembly"
      case .neighbourQueues: "neighbour_queues"
      case .deviceQueue: "device_queue"
      case .services: "services"
      }
    }
  }

  /// The most bytes charged at once.
  public let limit: Int
  /// From here on the stack is under pressure.
  public let pressureLevel: Int
  /// From here on new connections are refused.
  public let admissionLevel: Int
  /// Bytes charged now.
  public private(set) var used = 0
  /// The most bytes ever charged at once.
  public private(set) var peak = 0
  private var usage: [Int]

  /// Requests refused because they would have passed the limit.
  public private(set) var refused: UInt64 = 0
  /// Times the stack went from below ``pressureLevel`` to at or above it.
  public private(set) var pressureEpisodes: UInt64 = 0

  /// The default limit: 256 MiB.
  public static let defaultLimit = 256 << 20
  /// The smallest limit accepted: enough for a few connections at full speed.
  public static let minimumLimit = 4 << 20

  /// A budget of `limit` bytes (at least ``minimumLimit``).
  public init(limit: Int = MemoryBudget.defaultLimit) {
    self.limit = max(limit, MemoryBudget.minimumLimit)
    pressureLevel = self.limit / 4 * 3
    admissionLevel = self.limit / 8 * 7
    usage = [Int](repeating: 0, count: Use.allCases.count)
  }

  /// Whether the stack is under pressure: shrink, drop what is cheapest to lose.
  public var isUnderPressure: Bool { used >= pressureLevel }
  /// Whether new work (a connection) may start.
  public var admitsNewWork: Bool { used < admissionLevel }
  /// Bytes left before the limit.
  public var available: Int { limit - used }

  /// Bytes charged for `use` now.
  public func used(for use: Use) -> Int { usage[use.rawValue] }

  /// Charges `bytes` for `use` if they fit under the limit; returns false (charging nothing,
  /// counting a refusal) if they do not.
  public func reserve(_ bytes: Int, for use: Use) -> Bool {
    precondition(bytes >= 0)
    guard bytes <= limit - used else {
      refused += 1
      return false
    }
    charge(bytes, for: use)
    return true
  }

  /// Charges `bytes` whatever the level: for the little a connection cannot do without (its
  /// state, once it is admitted) and for frames already built.
  public func charge(_ bytes: Int, for use: Use) {
    precondition(bytes >= 0)
    let wasUnderPressure = isUnderPressure
    used += bytes
    usage[use.rawValue] += bytes
    if used > peak { peak = used }
    if !wasUnderPressure && isUnderPressure { pressureEpisodes += 1 }
  }

  /// Gives back `bytes` charged for `use`.
  public func release(_ bytes: Int, for use: Use) {
    precondition(bytes >= 0 && bytes <= usage[use.rawValue], "released more than was charged")
    used -= bytes
    usage[use.rawValue] -= bytes
  }
}

extension MemoryBudget: CounterGroup {
  public static let groupName: StaticString = "memory"

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("limit", UInt64(limit))
    body("used", UInt64(used))
    body("peak", UInt64(peak))
    body("refused", refused)
    body("pressure_episodes", pressureEpisodes)
  }
}
