import ARP
import Ethernet
import IPv4
import NetCore
import TCP
import UDP

/// The whole stack on one Ethernet device: Ethernet and ARP, IPv4 with ICMP, UDP and TCP, wired
/// together in one place (as mirage-tcpip's `tcpip_stack_direct.ml` wires its functors).
///
/// Sans-IO: a runtime hands it received frames with ``receive(_:info:now:)``, calls
/// ``poll(now:)`` when ``nextDeadline`` comes, and sends what collects in ``transmitQueue``.
/// The same value runs over a TAP device in `netstackd`, over an in-memory link in the
/// simulation, and over netfront in a unikernel.
public struct DirectStack {
  /// IPv4 and, below it, the Ethernet link with ARP.
  public var ipv4: IPv4Layer<EthernetLink>
  /// UDP endpoints.
  public var udp: UDPLayer
  /// TCP connections and listeners.
  public var tcp: TCPLayer
  /// UDP endpoints that received a datagram since the runtime last looked (bounded by the
  /// number of endpoints; each appears once).
  public private(set) var readableUDPEndpoints: [UDPEndpointID] = []

  /// A stack with the configured address, which it announces at once with gratuitous ARP
  /// (the announcement waits in ``transmitQueue``).
  public init(configuration: DirectStackConfiguration, now: Instant) {
    var random = PseudoRandomGenerator(seed: configuration.seed)
    let link = EthernetLink(
      hardwareAddress: configuration.hardwareAddress, mtu: configuration.mtu,
      supportsSegmentationOffload: configuration.segmentationOffload)
    ipv4 = IPv4Layer(link: link, identificationSeed: UInt16(truncatingIfNeeded: random.next()))
    udp = UDPLayer(seed: random.next())
    tcp = TCPLayer(configuration: configuration.tcp, seed: random.next())
    configure(address: configuration.address, gateway: configuration.gateway, now: now)
  }

  /// Sets or removes our address and gateway (DHCP calls this as leases come and go).
  public mutating func configure(address: IPv4CIDR?, gateway: IPv4Address?, now: Instant) {
    ipv4.configure(address: address, gateway: gateway, now: now)
  }

  /// Our MAC address.
  public var hardwareAddress: MACAddress { ipv4.link.hardwareAddress }

  /// Frames waiting for the device.
  public var transmitQueue: BoundedQueue<PacketBuffer> {
    get { ipv4.link.transmitQueue }
    _modify { yield &ipv4.link.transmitQueue }
  }

  // MARK: Receiving

  /// Handles one frame from the device.
  public mutating func receive(_ frame: Span<UInt8>, info: ReceivedFrameInfo, now: Instant) {
    guard case .ipv4(let linkBroadcast) = ipv4.link.receive(frame, now: now) else { return }
    let packet = frame.extracting(droppingFirst: EthernetHeader.length)
    switch ipv4.receive(packet, linkBroadcast: linkBroadcast, now: now) {
    case .consumed:
      return
    case .local(let delivery):
      let length = delivery.headerLength + delivery.header.payloadLength
      deliver(
        delivery, packet: packet.extracting(0..<length),
        checksumVerified: info.transportChecksumVerified, now: now)
    case .reassembled(let delivery, let buffer):
      buffer.withBytes { deliver(delivery, packet: $0, checksumVerified: false, now: now) }
    }
  }

  /// Hands a datagram to its transport, or answers "protocol unreachable".
  private mutating func deliver(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    switch delivery.header.protocolNumber {
    case .udp:
      switch udp.input(delivery, packet: packet, checksumVerified: checksumVerified) {
      case .delivered(let endpoint):
        if !readableUDPEndpoints.contains(endpoint) { readableUDPEndpoints.append(endpoint) }
      case .portUnreachable:
        ipv4.sendDestinationUnreachable(
          .port, about: packet, linkBroadcast: delivery.linkBroadcast, now: now)
      case .dropped:
        break
      }
    case .tcp:
      tcp.input(
        delivery, packet: packet, checksumVerified: checksumVerified, now: now, network: &ipv4)
    default:
      ipv4.sendDestinationUnreachable(
        .protocolUnreachable, about: packet, linkBroadcast: delivery.linkBroadcast, now: now)
    }
  }

  // MARK: Application calls that send at once

  /// Opens a TCP connection (its SYN is sent now).
  public mutating func connectTCP(to address: IPv4Address, port: UInt16, now: Instant)
    throws(TCPError) -> TCPConnectionID
  {
    try tcp.connect(to: address, port: port, now: now, network: &ipv4)
  }

  /// Sends a UDP datagram from a bound endpoint.
  public mutating func sendUDP(
    _ payload: Span<UInt8>, from endpoint: UDPEndpointID, to address: IPv4Address, port: UInt16,
    now: Instant
  ) throws(UDPError) {
    try udp.send(payload, from: endpoint, to: address, port: port, through: &ipv4, now: now)
  }

  /// Takes the list of UDP endpoints that have data (for the runtime to wake their readers).
  public mutating func takeReadableUDPEndpoints() -> [UDPEndpointID] {
    defer { readableUDPEndpoints.removeAll(keepingCapacity: true) }
    return readableUDPEndpoints
  }

  // MARK: Timers

  /// Runs every layer's timers that are due.
  public mutating func poll(now: Instant) {
    ipv4.poll(now: now)
    tcp.poll(now: now, network: &ipv4)
  }

  /// Sends what application calls (TCP writes, reads that opened the window, closes) made
  /// due; a runtime calls it after each batch of application work.
  public mutating func flush(now: Instant) {
    tcp.flush(now: now, network: &ipv4)
  }

  /// When ``poll(now:)`` is next needed, if ever.
  public var nextDeadline: Instant? { Instant.earliest(ipv4.nextDeadline, tcp.nextDeadline) }

  // MARK: Observing

  /// Calls `body` with each counter of each layer: group, name, value.
  public func forEachCounter(_ body: (StaticString, StaticString, UInt64) -> Void) {
    func report<Group: CounterGroup>(_ group: Group) {
      group.forEachCounter { body(Group.groupName, $0, $1) }
    }
    report(ipv4.link.ethernetCounters)
    report(ipv4.link.arpCounters)
    report(ipv4.counters)
    report(ipv4.icmpCounters)
    report(udp.counters)
    report(tcp.counters)
  }
}
