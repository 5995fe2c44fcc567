/// The network layer as a transport (TCP, UDP) sees it, whichever IP family is below: source
/// selection, the largest payload towards a destination (path MTU), offloads, headroom, and a
/// way to send a transport packet. `IPv4Layer` (RFC 791) and `IPv6Layer` (RFC 8200) conform,
/// and ``DualStackNetwork`` joins one of each; a test can provide a fake.
///
/// Transports are generic over this protocol at the call site (`tcp.flush(now:network:)`), as
/// mirage-tcpip's TCP is a functor over its IP module: one TCP and one UDP over both families
/// (ARCHITECTURE principle 11). The pseudo-header sum by family is
/// ``InternetChecksum/pseudoHeader(source:destination:protocolNumber:length:)``.
public protocol TransportNetwork {
  /// Whether the link can take TCP segments larger than the MTU (TSO) and fill in transport
  /// checksums (the payload's `PacketBuffer/offload` says what is left to do).
  var supportsSegmentationOffload: Bool { get }

  /// Bytes of headers below the transport (IP and link): the headroom a transport must leave
  /// in front of its header.
  var headroom: Int { get }

  /// The source address to use towards `destination`, or nil when there is no route or no
  /// usable address of that family.
  func sourceAddress(for destination: IPAddress) -> IPAddress?

  /// The largest transport packet that fits one unfragmented IP packet to `destination`: the
  /// link MTU, or the path MTU where one is known (RFC 8201; never below 1280 − 40 for IPv6),
  /// less the IP header.
  func maximumPayloadSize(to destination: IPAddress) -> Int

  /// An empty buffer for a transport to fill, of up to `capacity` bytes (headroom included),
  /// its data starting `headroom` bytes in: the link's reused buffers where it has them.
  mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer

  /// Sends `payload` (a transport header and data) to `destination`, fragmenting it if needed
  /// and allowed.
  mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError)
}

extension TransportNetwork {
  /// A network without a pool (a test's fake) allocates each buffer.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    PacketBuffer(capacity: capacity, headroom: headroom)
  }
}

/// Per-packet choices for ``TransportNetwork/send(_:protocolNumber:to:options:now:)``, the
/// same for both families: the header fields a transport may set (RFC 791 §3.1, RFC 8200 §3).
public struct TransportSendOptions: Sendable {
  /// The source address; nil lets the network choose (IPv4: the interface address, 0.0.0.0
  /// while there is none; IPv6: RFC 6724 selection). Of the destination's family.
  public var source: IPAddress?
  /// Refuse to fragment: IPv4's DF flag (RFC 1191), IPv6's source fragmentation refused
  /// (RFC 8201). TCP sets it and sizes its segments to the path MTU.
  public var dontFragment: Bool
  /// IPv4's type of service, IPv6's traffic class (RFC 2474: DSCP and ECN).
  public var trafficClass: UInt8
  /// IPv4's time to live, IPv6's hop limit; nil uses the layer's default.
  public var hopLimit: UInt8?

  public init(
    source: IPAddress? = nil, dontFragment: Bool = false, trafficClass: UInt8 = 0,
    hopLimit: UInt8? = nil
  ) {
    self.source = source
    self.dontFragment = dontFragment
    self.trafficClass = trafficClass
    self.hopLimit = hopLimit
  }
}

/// Why a transport's packet could not be sent, by either network layer (RFC 1122 §3.4: IP
/// reports such errors to the transport that sent).
public enum TransportSendError: Error, Equatable, Sendable {
  /// No route covers the destination, or the network has no layer of its family.
  case noRoute
  /// No usable address of the interface can be the source (IPv6: none yet, or only
  /// tentative ones), or the given source is not one.
  case noSourceAddress
  /// Larger than the path MTU with fragmentation refused, or larger than an IP packet can be.
  case tooLarge
}

extension TransportSendError: CustomStringConvertible {
  public var description: String {
    switch self {
    case .noRoute: "no route to host"
    case .noSourceAddress: "no usable source address"
    case .tooLarge: "message too long"
    }
  }
}
