import Applications
import DHCP
import IPv4
import IPv4OverEthernet
import IPv6
import NetCore
import TCP
import UDP

/// The whole stack on one Ethernet device: Ethernet and ARP, IPv4 with ICMP, IPv6 with ICMPv6
/// and neighbour discovery, UDP and TCP, wired together in one place (as mirage-tcpip's
/// `tcpip_stack_direct.ml` wires its functors).
///
/// Sans-IO, with one entry: a runtime calls ``poll(now:device:receiveBatch:)`` whenever the
/// device is readable or the deadline it returned comes (smoltcp's `Interface::poll` and
/// `poll_at`); the poll takes the device's frames, runs the timers and the services, sends
/// what became due and hands the frames to the device, always in that order. The same value
/// runs over a TAP device in `netstackd`, over an in-memory link in the simulation, and over
/// netfront in a unikernel, each device wrapped as needed (``PcapDevice``,
/// ``ImpairedDevice``, ``TracingDevice``).
public struct DirectStack {
  /// The network layers as the transports see them: one TCP and one UDP send through this
  /// pair, each packet through the layer of its destination's family (RFC 4213 §2).
  public var network: DualStackNetwork<IPv4Layer<EthernetLink>, IPv6Layer<EthernetIPv6Link>>

  /// IPv4 and, below it, the Ethernet link with ARP: the link's one owner.
  public var ipv4: IPv4Layer<EthernetLink> {
    _read { yield network.ipv4 }
    _modify { yield &network.ipv4 }
  }

  /// IPv6 (RFC 8200) with ICMPv6, neighbour discovery, SLAAC and MLDv2, over its side of the
  /// same Ethernet link (``EthernetIPv6Link``, whose outbox the stack moves into
  /// `ipv4.link`). Not started when the configuration turns it off
  /// (``DirectStackConfiguration/ipv6Enabled``) or the MTU is below IPv6's 1280 (RFC 8200 §5).
  public var ipv6: IPv6Layer<EthernetIPv6Link> {
    _read { yield network.ipv6 }
    _modify { yield &network.ipv6 }
  }
  /// UDP endpoints.
  public var udp: UDPLayer
  /// TCP connections and listeners.
  public var tcp: TCPLayer
  /// The services the stack runs itself (HTTP, echo, ...), stepped at each flush.
  public var services: TCPServiceHost
  /// The UDP services the stack runs itself (echo), answered at each flush.
  public var udpServices = UDPServiceHost()
  /// The one memory budget every layer's buffers are charged to.
  public let budget: MemoryBudget
  /// TCP notifications that are not the services': for the application API's waiters.
  private var applicationNotifications: [TCPNotification] = []
  /// Frames the device took in the last poll, on their way back to the buffer pool.
  private var transmitted: [PacketBuffer] = []
  /// UDP endpoints that received a datagram since the runtime last looked (bounded by the
  /// number of endpoints; each appears once).
  public internal(set) var readableUDPEndpoints: [UDPEndpointID] = []
  /// The DHCP client, once ``startDHCPClient(_:now:)`` has started it.
  public private(set) var dhcpClient: DHCPClient?
  /// The DHCP server, once ``startDHCPServer(_:)`` has started it.
  public private(set) var dhcpServer: DHCPServer?
  /// What the DHCP client did since the runtime last looked (bound, renewed, lost,
  /// declined), for it to report; at most 64, oldest first.
  public private(set) var dhcpEvents: [DHCPClientAction] = []
  private var dhcpClientEndpoint: UDPEndpointID?
  private var dhcpServerEndpoint: UDPEndpointID?
  /// Relay mode's gateway, once ``startRelay(_:now:)`` has made the stack one.
  public internal(set) var relay: RelayGateway?
  /// UDP endpoints sending from an address and port not the stack's (a published port's
  /// flows; `DirectStack+ChosenSourceUDP.swift`).
  public internal(set) var chosenSourceUDP = ChosenSourceUDPTable()

  /// A stack with the configured address, which it announces at once with gratuitous ARP
  /// (the announcement waits in ``transmitQueue``). IPv6 starts at once too: the link-local
  /// address and the configured ones begin duplicate address detection, and router
  /// solicitation is scheduled (RFC 4862 §5.4, RFC 4861 §6.3.7).
  public init(configuration: DirectStackConfiguration, now: Instant) {
    var random = PseudoRandomGenerator(seed: configuration.seed)
    budget = MemoryBudget(limit: configuration.memoryLimit)
    services = TCPServiceHost(budget: budget)
    var link = EthernetLink(
      hardwareAddress: configuration.hardwareAddress, mtu: configuration.mtu,
      supportsSegmentationOffload: configuration.segmentationOffload, budget: budget)
    link.transmitQueue.keepsTakenFrames = true
    let ipv4Layer = IPv4Layer(
      link: link, identificationSeed: UInt16(truncatingIfNeeded: random.next()), budget: budget)
    udp = UDPLayer(seed: random.next(), budget: budget)
    tcp = TCPLayer(configuration: configuration.tcp, seed: random.next(), budget: budget)
    var ipv6Configuration = IPv6Layer<EthernetIPv6Link>.Configuration()
    ipv6Configuration.autoconfiguresAddresses = configuration.ipv6Autoconfiguration
    let drawnSecret = (random.next(), random.next())
    let ipv6Layer = IPv6Layer(
      link: EthernetIPv6Link(
        hardwareAddress: configuration.hardwareAddress, mtu: configuration.mtu,
        supportsSegmentationOffload: configuration.segmentationOffload),
      configuration: ipv6Configuration,
      secretKey: configuration.ipv6StableSecret ?? drawnSecret,
      randomSeed: random.next(), budget: budget)
    network = DualStackNetwork(ipv4: ipv4Layer, ipv6: ipv6Layer)
    configure(address: configuration.address, gateway: configuration.gateway, now: now)
    if configuration.ipv6Enabled && configuration.mtu >= IPv6Header.minimumMTU {
      ipv6.start(now: now)
      for cidr in configuration.ipv6Addresses { try? ipv6.addAddress(cidr, now: now) }
      ipv6.setGateway(configuration.ipv6Gateway, now: now)
      if let advertising = configuration.ipv6RouterAdvertisement {
        ipv6.startAdvertising(advertising, now: now)
      }
      moveIPv6Requests()
    }
  }

  /// Sets or removes our address and gateway (DHCP calls this as leases come and go).
  public mutating func configure(address: IPv4CIDR?, gateway: IPv4Address?, now: Instant) {
    ipv4.configure(address: address, gateway: gateway, now: now)
  }

  /// Our MAC address.
  public var hardwareAddress: MACAddress { ipv4.link.hardwareAddress }

  /// Frames waiting for the device.
  public var transmitQueue: FrameQueue {
    get { ipv4.link.transmitQueue }
    _modify { yield &ipv4.link.transmitQueue }
  }

  /// Whether frames wait to go out: on the device's queue, or IPv6 packets not yet handed to
  /// the link (a poll's flush moves them there).
  public var hasFramesToSend: Bool { !transmitQueue.isEmpty || !ipv6.link.outbox.isEmpty }

  // MARK: Receiving

  // MARK: The poll

  /// One pass of the stack at `now` over `device`, in the one right order:
  ///
  /// 1. receive: up to `receiveBatch` frames the device has;
  /// 2. timers: every layer's that are due (ARP, reassembly, TCP, DHCP);
  /// 3. services and flush: the services step on their news, and everything received segments,
  ///    the services and application calls made due (ACKs, data, FIN, window updates) goes
  ///    out;
  /// 4. transmit: the queued frames go to the device, whose written buffers return to the pool.
  ///
  /// Returns when to poll again at the latest: `now` when the device may still have frames
  /// waiting (the batch was full) or work is left over, else the earliest deadline of the
  /// stack and the device, nil for none. A `receiveBatch` of 0 reads nothing (timers, flush
  /// and transmit only: what a runtime queued beside the stack goes out), and says nothing
  /// about frames waiting.
  public mutating func poll<Device: NetworkDevice & ~Copyable>(
    now: Instant, device: inout Device, receiveBatch: Int = 256
  ) throws(Device.Failure) -> Instant? {
    let received = try device.receive(limit: receiveBatch, now: now) { frame, info in
      receive(frame, info: info, now: now)
    }
    if let due = timersDeadline, due <= now { runTimers(now: now) }
    flush(now: now)
    moveIPv6Requests()
    try device.transmit(&transmitQueue, now: now)
    // The buffers of the frames the device wrote go back to the pool.
    network.ipv4.link.transmitQueue.swapTakenFrames(&transmitted)
    for index in transmitted.indices {
      network.ipv4.link.transmitBuffers.recycle(&transmitted[index])
    }
    transmitted.removeAll(keepingCapacity: true)
    if receiveBatch > 0, received >= receiveBatch { return now }
    return Instant.earliest(nextDeadline, device.nextDeadline)
  }

  /// Handles one frame from the device. TCP answers wait for the flush of the same poll.
  mutating func receive(_ frame: Span<UInt8>, info: ReceivedFrameInfo, now: Instant) {
    let input = ipv4.link.receive(frame, now: now)
    if !ipv4.link.addressClaims.isEmpty { dhcpAddressClaims(now: now) }
    let packet: Span<UInt8>
    let linkBroadcast: Bool
    switch input {
    case .consumed:
      return
    case .ipv6(let ipv6Packet, let linkMulticast):
      receiveIPv6(
        ipv6Packet, linkMulticast: linkMulticast,
        checksumVerified: info.transportChecksumVerified, now: now)
      return
    case .ipv4(let ipv4Packet, let broadcast):
      packet = ipv4Packet
      linkBroadcast = broadcast
    }
    switch ipv4.receive(packet, linkBroadcast: linkBroadcast, now: now) {
    case .consumed:
      if !ipv4.pathMTUReports.isEmpty || !ipv4.unreachableReports.isEmpty {
        takeIPv4ErrorReports()
      }
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

  /// Handles one received IPv6 packet: the layer answers ICMPv6 (echo included), neighbour
  /// discovery and MLD itself; what it delivers goes to the IPv6 `deliver`.
  private mutating func receiveIPv6(
    _ packet: Span<UInt8>, linkMulticast: Bool, checksumVerified: Bool, now: Instant
  ) {
    guard ipv6.isStarted else {
      // IPv6 is off, or the link is below IPv6's minimum MTU (RFC 8200 §5).
      ipv6.link.droppedNotRunning += 1
      return
    }
    switch ipv6.receive(packet, linkMulticast: linkMulticast, now: now) {
    case .consumed:
      break
    case .local(let delivery):
      let length = delivery.payloadOffset + delivery.payloadLength
      deliver(
        delivery, packet: packet.extracting(0..<length), checksumVerified: checksumVerified,
        now: now)
    case .reassembled(let delivery, let buffer):
      buffer.withBytes { deliver(delivery, packet: $0, checksumVerified: false, now: now) }
    case .error(let report):
      takeIPv6ErrorReport(report, now: now)
    }
    moveIPv6Requests()
  }

  /// Hands the IPv4 layer's checked reports about TCP segments to TCP, which checks the
  /// quoted segment against its connections (RFC 5927 §4.1): a "fragmentation needed" lowers
  /// the segment size of the connection it names (RFC 1191 §6.4; IPv4 keeps no path MTU per
  /// destination: the lowered size lives in the connection), a destination unreachable
  /// refuses a connection being opened or is recorded as a soft error (RFC 1122 §4.2.3.9).
  private mutating func takeIPv4ErrorReports() {
    while let report = ipv4.pathMTUReports.popFirst() {
      guard report.quotedProtocol == .tcp else { continue }
      tcp.pathMTUDecreased(
        quotedHeader: report.quotedTransportHeader.span, from: .v4(report.quotedSource),
        to: .v4(report.quotedDestination), maximumPayload: report.mtu - IPv4Header.length)
    }
    while let report = ipv4.unreachableReports.popFirst() {
      guard report.quotedProtocol == .tcp else { continue }
      tcp.destinationUnreachable(
        quotedHeader: report.quotedTransportHeader.span, from: .v4(report.quotedSource),
        to: .v4(report.quotedDestination), isHard: report.isHard)
    }
  }

  /// Hands an ICMPv6 error about a TCP segment of ours to TCP, which checks the quoted
  /// segment against its connections as for IPv4 (RFC 5927 §4.1): a packet too big lowers the
  /// segment size of the connection it names (RFC 8201 §5.2) and only then goes into the
  /// layer's path MTU cache (for later connections and fragmentation; reports about other
  /// upper layers the layer records itself), a destination unreachable refuses a connection being
  /// opened or is recorded as a soft error (RFC 1122 §4.2.3.9). Errors about other upper
  /// layers are counted by the layer and left to the transports' timers.
  private mutating func takeIPv6ErrorReport(_ report: ICMPv6ErrorReport, now: Instant) {
    guard report.quotedNextHeader == .tcp else { return }
    let source = IPAddress.v6(report.quotedSource)
    let destination = IPAddress.v6(report.quotedDestination)
    switch report.type {
    case .packetTooBig:
      // The layer waits for TCP's check before it records the path MTU (RFC 5927 §4.1).
      if let mtu = report.mtu,
        tcp.quotesSegmentInFlight(
          report.quotedTransportHeader.span, from: source, to: destination)
      {
        ipv6.lowerPathMTU(towards: report.quotedDestination, to: mtu, now: now)
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

  /// Hands an IPv6 datagram to its transport: the one place where IPv6 meets TCP and UDP,
  /// the same TCP and UDP that IPv4 delivers to. A UDP port nobody listens on is answered
  /// destination unreachable, port unreachable (RFC 4443 §3.1 code 4); TCP answers a closed
  /// port itself (RST); any other upper layer the IPv6 layer delivers gets parameter problem
  /// code 1 pointing at the next header field that named it (RFC 8200 §4).
  private mutating func deliver(
    _ delivery: IPv6Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    if delivery.isRelayed {
      return relayInput(delivery, packet: packet, checksumVerified: checksumVerified, now: now)
    }
    let transportBytes = packet.extracting(
      delivery.payloadOffset..<(delivery.payloadOffset + delivery.payloadLength))
    switch delivery.nextHeader {
    case .udp:
      switch udp.input(
        TransportDelivery(delivery, checksumVerified: checksumVerified), datagram: transportBytes)
      {
      case .delivered(let endpoint) where endpoint == dhcpClientEndpoint:
        dhcpClientReceive(now: now)  // which drops it: DHCPv4 takes IPv4 datagrams only
      case .delivered(let endpoint) where endpoint == dhcpServerEndpoint:
        dhcpServerReceive(now: now)
      case .delivered(let endpoint):
        if !readableUDPEndpoints.contains(endpoint) { readableUDPEndpoints.append(endpoint) }
      case .portUnreachable:
        ipv6.sendDestinationUnreachable(
          .portUnreachable, about: packet, linkMulticast: delivery.linkMulticast, now: now)
      case .dropped:
        break
      }
    case .tcp:
      tcp.input(
        TransportDelivery(delivery, checksumVerified: checksumVerified), segment: transportBytes,
        now: now, network: &network)
    default:
      ipv6.sendParameterProblem(
        .unrecognizedNextHeader, pointer: delivery.nextHeaderFieldOffset, about: packet,
        linkMulticast: delivery.linkMulticast, now: now)
    }
  }

  /// Moves what the IPv6 layer asked of its link (``EthernetIPv6Link/outbox``) into the
  /// Ethernet link: frames into its transmit queue, group joins and leaves into its filter.
  mutating func moveIPv6Requests() {
    guard !ipv6.link.outbox.isEmpty else { return }
    for request in ipv6.link.takeRequests() {
      switch request {
      case .send(let packet, let destination): ipv4.link.sendIPv6(packet, to: destination)
      case .join(let group): ipv4.link.joinMulticastGroup(group)
      case .leave(let group): ipv4.link.leaveMulticastGroup(group)
      }
    }
  }

  /// Hands a datagram to its transport, or answers "protocol unreachable". Of the datagrams
  /// for another address (``IPv4Delivery/isForOtherAddress``: DHCP's offers), only UDP takes
  /// any, for an endpoint that asked; TCP and the rest drop them unanswered.
  private mutating func deliver(
    _ delivery: IPv4Delivery, packet: Span<UInt8>, checksumVerified: Bool, now: Instant
  ) {
    if delivery.isRelayed {
      return relayInput(delivery, packet: packet, checksumVerified: checksumVerified, now: now)
    }
    if delivery.isForOtherAddress && delivery.header.protocolNumber != .udp {
      ipv4.dropForOtherAddress()
      return
    }
    switch delivery.header.protocolNumber {
    case .udp:
      switch udp.input(
        TransportDelivery(delivery, checksumVerified: checksumVerified),
        datagram: packet.extracting(droppingFirst: delivery.headerLength))
      {
      case .delivered(let endpoint) where endpoint == dhcpClientEndpoint:
        dhcpClientReceive(now: now)
      case .delivered(let endpoint) where endpoint == dhcpServerEndpoint:
        dhcpServerReceive(now: now)
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
        TransportDelivery(delivery, checksumVerified: checksumVerified),
        segment: packet.extracting(droppingFirst: delivery.headerLength), now: now,
        network: &network)
    default:
      ipv4.sendDestinationUnreachable(
        .protocolUnreachable, about: packet, linkBroadcast: delivery.linkBroadcast, now: now)
    }
  }

  // MARK: Application calls that send at once

  /// Opens a TCP connection (its SYN is sent now).
  public mutating func connectTCP(to address: IPAddress, port: UInt16, now: Instant)
    throws(TCPError) -> TCPConnectionID
  {
    try tcp.connect(to: address, port: port, now: now, network: &network)
  }

  /// Sends a UDP datagram from a bound endpoint.
  public mutating func sendUDP(
    _ payload: Span<UInt8>, from endpoint: UDPEndpointID, to address: IPAddress, port: UInt16,
    now: Instant
  ) throws(UDPError) {
    try udp.send(payload, from: endpoint, to: address, port: port, through: &network, now: now)
  }

  /// Takes the list of UDP endpoints that have data (for the runtime to wake their readers).
  public mutating func takeReadableUDPEndpoints() -> [UDPEndpointID] {
    defer { readableUDPEndpoints.removeAll(keepingCapacity: true) }
    return readableUDPEndpoints
  }

  // MARK: Timers

  /// Runs every layer's timers that are due.
  private mutating func runTimers(now: Instant) {
    ipv4.poll(now: now)
    if ipv6.isStarted {
      ipv6.poll(now: now)
      moveIPv6Requests()
    }
    tcp.poll(now: now, network: &network)
    if let actions = dhcpClient?.poll(now: now) { perform(actions, now: now) }
    dhcpServer?.poll(now: now)
  }

  /// Answers the datagrams waiting for the UDP services, steps the TCP services that have
  /// news, then sends what received segments (ACKs, data an ACK released), the services and
  /// application calls (TCP writes, reads that opened the window, closes) made due. The poll
  /// runs it after receiving and the timers.
  mutating func flush(now: Instant) {
    if !readableUDPEndpoints.isEmpty {
      udpServices.serve(readable: &readableUDPEndpoints, udp: &udp, network: &network, now: now)
    }
    // A flush can give the services news (a handshake completed, room freed): a few rounds
    // let them act on it at once; what is left waits for the next turn (nextDeadline).
    for _ in 0..<3 {
      let notifications = tcp.takeNotifications()
      applicationNotifications.append(
        contentsOf: services.handle(notifications, tcp: &tcp, now: now))
      if let deadline = services.nextDeadline, deadline <= now {
        services.runTimers(tcp: &tcp, now: now)
      }
      tcp.flush(now: now, network: &network)
      if !tcp.hasPendingNotifications { break }
    }
  }

  /// Starts a service of the stack's own on a TCP port.
  public mutating func startService(_ service: Service, port: UInt16) throws(TCPError) {
    try services.start(service, port: port, tcp: &tcp)
  }

  /// Starts a service of the stack's own on a UDP port (its handler's).
  public mutating func startUDPService(_ service: DatagramService) throws(UDPError) {
    try udpServices.start(service, udp: &udp)
  }

  /// Takes the TCP notifications that are not the services': what the application API's
  /// tasks wait for.
  public mutating func takeApplicationNotifications() -> [TCPNotification] {
    defer { applicationNotifications.removeAll(keepingCapacity: true) }
    return applicationNotifications
  }

  /// When the timers next need to run, if ever.
  private var timersDeadline: Instant? {
    var deadline = Instant.earliest(ipv4.nextDeadline, tcp.nextDeadline)
    if ipv6.isStarted { deadline = Instant.earliest(deadline, ipv6.nextDeadline) }
    if let client = dhcpClient { deadline = Instant.earliest(deadline, client.nextDeadline) }
    if let server = dhcpServer { deadline = Instant.earliest(deadline, server.nextDeadline) }
    return deadline
  }

  /// When ``poll(now:device:receiveBatch:)`` is next needed (without the device's own
  /// deadline), if ever.
  public var nextDeadline: Instant? {
    var deadline = Instant.earliest(ipv4.nextDeadline, tcp.nextDeadline)
    if ipv6.isStarted { deadline = Instant.earliest(deadline, ipv6.nextDeadline) }
    deadline = Instant.earliest(deadline, services.nextDeadline)
    if tcp.hasPendingNotifications { deadline = Instant.earliest(deadline, .zero) }
    if let client = dhcpClient { deadline = Instant.earliest(deadline, client.nextDeadline) }
    if let server = dhcpServer { deadline = Instant.earliest(deadline, server.nextDeadline) }
    return deadline
  }

  // MARK: Observing

  /// Calls `body` with each counter of each layer: group, name, value.
  public func forEachCounter(_ body: (StaticString, StaticString, UInt64) -> Void) {
    func report<Group: CounterGroup>(_ group: Group) {
      group.forEachCounter { body(Group.groupName, $0, $1) }
    }
    report(ipv4.link.ethernetCounters)
    report(ipv4.link.arpCounters)
    report(ipv4.link.transmitBuffers)
    report(ipv4.counters)
    report(ipv4.icmpCounters)
    report(ipv6.link)
    report(ipv6.counters)
    report(ipv6.icmpCounters)
    report(ipv6.ndpCounters)
    if let advertiser = ipv6.advertiser { report(advertiser.counters) }
    report(udp.counters)
    report(tcp.counters)
    report(services.counters)
    if let http = services.httpCounters { report(http) }
    if let udpEcho = udpServices.udpEchoCounters { report(udpEcho) }
    report(budget)
    if let dhcpClient { report(dhcpClient.counters) }
    if let dhcpServer { report(dhcpServer.counters) }
    if let relay { report(relay.counters) }
  }
}

// MARK: - DHCP

extension DirectStack {
  /// Starts getting our address by DHCP: binds UDP port 68 and sends the first DISCOVER (or
  /// INIT-REBOOT's REQUEST). As leases come and go the client's actions configure and
  /// withdraw our address, gateway and MTU; ``dhcpEvents`` reports them.
  public mutating func startDHCPClient(_ configuration: DHCPClient.Configuration, now: Instant)
    throws(UDPError)
  {
    precondition(dhcpClient == nil, "the DHCP client is already running")
    // A server may unicast its offer to the address it offers, which is not ours yet.
    dhcpClientEndpoint = try udp.bind(port: DHCPPort.client, acceptsOtherAddresses: true)
    ipv4.acceptsOtherAddressesWhileUnconfigured = true
    var client = DHCPClient(configuration: configuration)
    let actions = client.start(now: now)
    dhcpClient = client
    perform(actions, now: now)
  }

  /// Starts serving addresses on the link from UDP port 67.
  public mutating func startDHCPServer(_ configuration: DHCPServer.Configuration)
    throws(UDPError)
  {
    precondition(dhcpServer == nil, "the DHCP server is already running")
    dhcpServerEndpoint = try udp.bind(port: DHCPPort.server)
    dhcpServer = DHCPServer(configuration: configuration)
  }

  /// Gives the DHCP lease back (DHCPRELEASE) and withdraws the address; for a clean shutdown.
  /// The release waits in ``transmitQueue``.
  public mutating func releaseDHCPLease(now: Instant) {
    if let actions = dhcpClient?.release(now: now) { perform(actions, now: now) }
  }

  /// Takes the DHCP client's events for the runtime to report.
  public mutating func takeDHCPEvents() -> [DHCPClientAction] {
    defer { dhcpEvents.removeAll() }
    return dhcpEvents
  }

  private mutating func dhcpClientReceive(now: Instant) {
    guard let endpoint = dhcpClientEndpoint else { return }
    while let datagram = udp.receive(from: endpoint) {
      // DHCPv4 is IPv4's: the endpoint takes either family, so one over IPv6 is dropped here.
      guard datagram.source.isIPv4, datagram.sourcePort == DHCPPort.server,
        let actions = dhcpClient?.receive(datagram.payload.span, now: now)
      else { continue }
      perform(actions, now: now)
    }
  }

  private mutating func dhcpServerReceive(now: Instant) {
    guard let endpoint = dhcpServerEndpoint else { return }
    while let datagram = udp.receive(from: endpoint) {
      guard datagram.source.isIPv4, datagram.sourcePort == DHCPPort.client,
        let reply = dhcpServer?.receive(datagram.payload.span, now: now)
      else { continue }
      let destination: IPv4Address
      switch reply.destination {
      case .broadcast: destination = .broadcast
      case .client(let address): destination = address
      case .hardware(let address, let mac):
        ipv4.link.learn(address, hardwareAddress: mac, now: now)
        destination = address
      }
      let bytes = reply.message.encoded
      try? udp.send(
        bytes.span, from: endpoint, to: .v4(destination), port: DHCPPort.client, through: &network,
        now: now)
    }
  }

  /// Hands the client ARP claims of the address it is probing.
  private mutating func dhcpAddressClaims(now: Instant) {
    for claim in ipv4.link.takeAddressClaims() {
      if let actions = dhcpClient?.addressClaimed(claim.address, now: now) {
        perform(actions, now: now)
      }
    }
  }

  /// Carries out what the client asked for.
  private mutating func perform(_ actions: [DHCPClientAction], now: Instant) {
    for action in actions {
      switch action {
      case .send(let message, let destination):
        guard let endpoint = dhcpClientEndpoint else { break }
        let bytes = message.encoded
        try? udp.send(
          bytes.span, from: endpoint, to: .v4(destination), port: DHCPPort.server,
          through: &network,
          now: now)
      case .probe(let address):
        ipv4.link.sendProbe(for: address)
      case .bound(let lease):
        ipv4.link.setMTU(lease.mtu)
        configure(address: lease.address, gateway: lease.router, now: now)
      case .lost, .released:
        configure(address: nil, gateway: nil, now: now)
        ipv4.link.setMTU(nil)
      case .renewed, .declined:
        break
      }
      switch action {
      case .send, .probe: break
      default:
        if dhcpEvents.count >= 64 { dhcpEvents.removeFirst() }
        dhcpEvents.append(action)
      }
    }
    ipv4.link.watchedAddress = dhcpClient?.probingAddress
  }
}
