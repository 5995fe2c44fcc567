import NetCore

/// What the UDP echo service (RFC 862) received, answered and refused (``UDPEchoRefusal``);
/// a daemon reports them summed over its UDP echo ports.
public struct UDPEchoCounters: CounterGroup, Equatable, Sendable {
  public static let groupName: StaticString = "udp_echo"

  /// Datagrams the service was given.
  public var datagramsReceived: UInt64 = 0
  /// Datagrams it answered (handed back to its driver to send).
  public var datagramsEchoed: UInt64 = 0
  /// Datagrams left unanswered because they came from a service's port (a loop in the making).
  public var refusedFromServicePort: UInt64 = 0
  /// Datagrams left unanswered because their source was not one host.
  public var refusedFromSourceAddress: UInt64 = 0

  public init() {}

  /// Counts a refusal under its reason.
  mutating func count(_ refusal: UDPEchoRefusal) {
    switch refusal {
    case .servicePort: refusedFromServicePort += 1
    case .sourceAddress: refusedFromSourceAddress += 1
    }
  }

  /// Two services' counts together.
  public static func + (lhs: UDPEchoCounters, rhs: UDPEchoCounters) -> UDPEchoCounters {
    var sum = lhs
    sum.datagramsReceived += rhs.datagramsReceived
    sum.datagramsEchoed += rhs.datagramsEchoed
    sum.refusedFromServicePort += rhs.refusedFromServicePort
    sum.refusedFromSourceAddress += rhs.refusedFromSourceAddress
    return sum
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("datagrams_received", datagramsReceived)
    body("datagrams_echoed", datagramsEchoed)
    body("refused_service_port", refusedFromServicePort)
    body("refused_source_address", refusedFromSourceAddress)
  }
}
