import NetCore
import Synchronization

/// What the UDP echo service (RFC 862) received, answered and refused (``UDPEchoRefusal``),
/// shared by every UDP echo port of a daemon and read from any thread by its status report.
public final class UDPEchoCounters: CounterGroup, Sendable {
  public static let groupName: StaticString = "udp_echo"

  private let received = Atomic<UInt64>(0)
  private let echoed = Atomic<UInt64>(0)
  private let refusedServicePort = Atomic<UInt64>(0)
  private let refusedSourceAddress = Atomic<UInt64>(0)

  public init() {}

  /// Datagrams the service took from its socket.
  public var datagramsReceived: UInt64 { received.load(ordering: .relaxed) }
  /// Datagrams sent back.
  public var datagramsEchoed: UInt64 { echoed.load(ordering: .relaxed) }
  /// Datagrams left unanswered because they came from a service's port (a loop in the making).
  public var refusedFromServicePort: UInt64 { refusedServicePort.load(ordering: .relaxed) }
  /// Datagrams left unanswered because their source was not one host.
  public var refusedFromSourceAddress: UInt64 { refusedSourceAddress.load(ordering: .relaxed) }

  func countReceived() { received.add(1, ordering: .relaxed) }
  func countEchoed() { echoed.add(1, ordering: .relaxed) }

  func count(_ refusal: UDPEchoRefusal) {
    switch refusal {
    case .servicePort: refusedServicePort.add(1, ordering: .relaxed)
    case .sourceAddress: refusedSourceAddress.add(1, ordering: .relaxed)
    }
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("datagrams_received", datagramsReceived)
    body("datagrams_echoed", datagramsEchoed)
    body("refused_service_port", refusedFromServicePort)
    body("refused_source_address", refusedFromSourceAddress)
  }
}
