import IPv4
import IPv6
import NetCore
import TCP
import UDP

/// One host on the test wire: an IPv4 layer and an IPv6 layer joined as one
/// `DualStackNetwork`, with one TCP and one UDP over it, wired the way a stack wires them:
/// each network layer's deliveries become `TransportDelivery`s for the transport they name.
struct DualStackHost {
  typealias Network = DualStackNetwork<IPv4Layer<WireIPv4Link>, IPv6Layer<WireIPv6Link>>

  var network: Network
  var tcp: TCPLayer
  var udp: UDPLayer
  /// UDP endpoints with datagrams waiting, in arrival order.
  var readableEndpoints: [UDPEndpointID] = []
  /// Datagrams no endpoint took (the host would answer port unreachable).
  var portUnreachable = 0
  /// ICMPv6 errors the IPv6 layer reported to the transports.
  var errorReports: [ICMPv6ErrorReport] = []

  init(
    ipv4: IPv4CIDR, ipv6: IPv6CIDR, mac: MACAddress, peer: MACAddress, seed: UInt64,
    tcp configuration: TCPConfiguration = TCPConfiguration()
  ) {
    var ipv4Layer = IPv4Layer(link: WireIPv4Link(), identificationSeed: UInt16(seed & 0xFFFF))
    ipv4Layer.configure(address: ipv4, gateway: nil, now: .zero)
    var ipv6Configuration = IPv6Layer<WireIPv6Link>.Configuration()
    ipv6Configuration.routerSolicitations = 0
    var ipv6Layer = IPv6Layer(
      link: WireIPv6Link(hardwareAddress: mac, peer: peer), configuration: ipv6Configuration,
      secretKey: (seed, seed &+ 1), randomSeed: seed)
    ipv6Layer.start(now: .zero)
    try! ipv6Layer.addAddress(ipv6, now: .zero)
    network = Network(ipv4: ipv4Layer, ipv6: ipv6Layer)
    tcp = TCPLayer(configuration: configuration, seed: seed)
    udp = UDPLayer(seed: seed)
  }

  /// Handles one frame from the wire (its two-byte header first).
  mutating func receive(_ frame: Span<UInt8>, now: Instant) {
    guard frame.count > WireHeader.length else { return }
    let multicast = frame[1] & WireHeader.multicastFlag != 0
    let packet = frame.extracting(droppingFirst: WireHeader.length)
    switch frame[0] {
    case 4: receiveIPv4(packet, linkBroadcast: multicast, now: now)
    case 6: receiveIPv6(packet, linkMulticast: multicast, now: now)
    default: break
    }
  }

  private mutating func receiveIPv4(_ packet: Span<UInt8>, linkBroadcast: Bool, now: Instant) {
    switch network.ipv4.receive(packet, linkBroadcast: linkBroadcast, now: now) {
    case .consumed:
      // A fragmentation needed about a TCP segment goes to TCP (RFC 1191 §6.4).
      while let report = network.ipv4.pathMTUReports.popFirst() {
        guard report.quotedProtocol == .tcp else { continue }
        tcp.pathMTUDecreased(
          quotedHeader: report.quotedTransportHeader.span, from: .v4(report.quotedSource),
          to: .v4(report.quotedDestination), maximumPayload: report.mtu - IPv4Header.length)
      }
      // A destination unreachable about a TCP segment (RFC 1122 §4.2.3.9).
      while let report = network.ipv4.unreachableReports.popFirst() {
        guard report.quotedProtocol == .tcp else { continue }
        tcp.destinationUnreachable(
          quotedHeader: report.quotedTransportHeader.span, from: .v4(report.quotedSource),
          to: .v4(report.quotedDestination), isHard: report.isHard)
      }
    case .local(let delivery):
      let end = delivery.headerLength + delivery.header.payloadLength
      deliver(
        TransportDelivery(delivery, checksumVerified: false),
        protocolNumber: delivery.header.protocolNumber,
        transport: packet.extracting(delivery.headerLength..<end), now: now)
    case .reassembled(let delivery, let buffer):
      buffer.withBytes { bytes in
        deliver(
          TransportDelivery(delivery, checksumVerified: false),
          protocolNumber: delivery.header.protocolNumber,
          transport: bytes.extracting(droppingFirst: delivery.headerLength), now: now)
      }
    }
  }

  private mutating func receiveIPv6(_ packet: Span<UInt8>, linkMulticast: Bool, now: Instant) {
    switch network.ipv6.receive(packet, linkMulticast: linkMulticast, now: now) {
    case .consumed:
      break
    case .local(let delivery):
      let start = delivery.payloadOffset
      deliver(
        TransportDelivery(delivery, checksumVerified: false),
        protocolNumber: IPProtocolNumber(rawValue: delivery.nextHeader.rawValue),
        transport: packet.extracting(start..<start + delivery.payloadLength), now: now)
    case .reassembled(let delivery, let buffer):
      let start = delivery.payloadOffset
      buffer.withBytes { bytes in
        deliver(
          TransportDelivery(delivery, checksumVerified: false),
          protocolNumber: IPProtocolNumber(rawValue: delivery.nextHeader.rawValue),
          transport: bytes.extracting(start..<start + delivery.payloadLength), now: now)
      }
    case .error(let report):
      // A packet too big lowered the path MTU in the IPv6 layer: the connection it names
      // follows (RFC 8201 §5.2); a destination unreachable may refuse a connection attempt.
      errorReports.append(report)
      guard report.quotedNextHeader == .tcp else { break }
      let source = IPAddress.v6(report.quotedSource)
      let destination = IPAddress.v6(report.quotedDestination)
      switch report.type {
      case .packetTooBig:
        // The layer waits for TCP's check before it records the path MTU (RFC 5927 §4.1).
        if let mtu = report.mtu,
          tcp.quotesSegmentInFlight(
            report.quotedTransportHeader.span, from: source, to: destination)
        {
          network.ipv6.lowerPathMTU(towards: report.quotedDestination, to: mtu, now: now)
        }
        tcp.pathMTUDecreased(
          quotedHeader: report.quotedTransportHeader.span, from: source, to: destination,
          maximumPayload: network.maximumPayloadSize(to: destination))
      case .destinationUnreachable:
        tcp.destinationUnreachable(
          quotedHeader: report.quotedTransportHeader.span, from: source, to: destination,
          isHard: report.isHardUnreachable)
      default:
        break
      }
    }
  }

  private mutating func deliver(
    _ delivery: TransportDelivery, protocolNumber: IPProtocolNumber, transport: Span<UInt8>,
    now: Instant
  ) {
    switch protocolNumber {
    case .tcp:
      tcp.input(delivery, segment: transport, now: now, network: &network)
    case .udp:
      switch udp.input(delivery, datagram: transport) {
      case .delivered(let endpoint):
        if !readableEndpoints.contains(endpoint) { readableEndpoints.append(endpoint) }
      case .portUnreachable:
        portUnreachable += 1
      case .dropped:
        break
      }
    default:
      break
    }
  }

  /// Runs every layer's timers that are due, then sends what became due. The tests read
  /// connection states themselves, so the layer's notifications are taken and dropped.
  mutating func poll(now: Instant) {
    network.ipv4.poll(now: now)
    network.ipv6.poll(now: now)
    tcp.poll(now: now, network: &network)
    tcp.flush(now: now, network: &network)
    _ = tcp.takeNotifications()
  }

  /// When the host next needs `poll`.
  var nextDeadline: Instant? {
    let deadline = Instant.earliest(network.ipv4.nextDeadline, network.ipv6.nextDeadline)
    return Instant.earliest(deadline, tcp.nextDeadline)
  }

  /// Takes the frames both links sent.
  mutating func takeSent() -> [PacketBuffer] {
    defer {
      network.ipv4.link.outbox.removeAll(keepingCapacity: true)
      network.ipv6.link.outbox.removeAll(keepingCapacity: true)
    }
    return network.ipv4.link.outbox + network.ipv6.link.outbox
  }
}
