import NetCore

/// What a transport (UDP, TCP) needs from the network layer below it: addresses, sizes, and a
/// way to send a datagram. `IPv4Layer` provides it; a test can provide a fake.
///
/// Transports are generic over this protocol at the call site
/// (`udp.send(..., through: &ipv4)`), so that the stack's layers stay separate values owned by
/// one stack, and each can be tested alone.
public protocol IPv4Network {
  /// The interface address, if configured.
  var address: IPv4CIDR? { get }

  /// The largest transport payload that fits one unfragmented packet on the link (MTU − 20).
  var maximumPayloadSize: Int { get }

  /// Whether the link can take TCP segments larger than the MTU (TSO) and fill in transport
  /// checksums (the payload's `PacketBuffer/offload` says what is left to do).
  var supportsSegmentationOffload: Bool { get }

  /// Bytes of headers below the transport (IPv4 and link): the headroom a transport must
  /// leave in front of its header.
  var headroom: Int { get }

  /// The source address to use towards `destination`, or nil when there is no route.
  func sourceAddress(for destination: IPv4Address) -> IPv4Address?

  /// An empty buffer for a transport to fill, of up to `capacity` bytes (headroom included),
  /// its data starting `headroom` bytes in: the link's reused buffers where it has them.
  mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer

  /// Sends `payload` (a transport header and data) to `destination`, fragmenting it if needed
  /// and allowed.
  mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPv4Address,
    options: IPv4SendOptions, now: Instant
  ) throws(IPv4SendError)
}

/// Per-datagram choices for ``IPv4Network/send(_:protocolNumber:to:options:now:)``.
public struct IPv4SendOptions: Sendable {
  /// The source address; nil picks the interface address (0.0.0.0 while there is none).
  public var source: IPv4Address?
  /// Set the DF flag (TCP does, for path MTU discovery; RFC 1191).
  public var dontFragment: Bool
  public var typeOfService: UInt8
  /// Nil uses the layer's default (64).
  public var timeToLive: UInt8?

  public init(
    source: IPv4Address? = nil, dontFragment: Bool = false, typeOfService: UInt8 = 0,
    timeToLive: UInt8? = nil
  ) {
    self.source = source
    self.dontFragment = dontFragment
    self.typeOfService = typeOfService
    self.timeToLive = timeToLive
  }
}

/// Why a datagram could not be sent.
public enum IPv4SendError: Error, Equatable, Sendable {
  /// No route covers the destination (no on-link network and no gateway).
  case noRoute
  /// Larger than the MTU with DF set, or larger than an IPv4 datagram can be.
  case tooLarge
}

extension IPv4SendError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .noRoute: "no route to host"
    case .tooLarge: "message too long"
    }
  }
}

extension IPv4Network {
  /// A network without a pool (a test's fake) allocates each buffer.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    PacketBuffer(capacity: capacity, headroom: headroom)
  }
}
