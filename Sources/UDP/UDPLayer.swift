import NetCore

/// UDP for one stack: port demultiplexing, bound endpoints with bounded receive queues,
/// checksums both ways (RFC 768, RFC 1122 §4.1).
///
/// Sans-IO like every layer: received datagrams come in through
/// ``input(_:datagram:)`` and are queued on their endpoint; sending goes out through whatever
/// `TransportNetwork` the caller passes: one UDP over IPv4 and IPv6 (RFC 8200 §8).
public struct UDPLayer {
  /// Limits and port ranges.
  public struct Configuration: Sendable {
    /// The most endpoints bound at once.
    public var maximumEndpoints = 1024
    /// Datagrams one endpoint's receive queue holds.
    public var queueDatagramLimit = 512
    /// Payload bytes one endpoint's receive queue holds.
    public var queueByteLimit = 1 << 20
    /// Ports handed out when binding to port 0 (IANA's dynamic range, RFC 6335).
    public var ephemeralPorts: ClosedRange<UInt16> = 49152...65535

    public init() {}
  }

  public let configuration: Configuration
  private var endpoints: HandleTable<UDPEndpointID, UDPEndpoint>
  private var endpointByPort: [UInt16: UDPEndpointID] = [:]
  /// Datagrams queued on all endpoints together, so that a receive from an endpoint when
  /// none is queued anywhere (a service polled every turn) costs no table lookup.
  public private(set) var queuedDatagrams = 0
  private var random: PseudoRandomGenerator
  public private(set) var counters = UDPCounters()
  /// Where queued datagrams are charged.
  let budget: MemoryBudget

  /// A UDP layer; `seed` randomises ephemeral ports; queued datagrams are charged to `budget`.
  public init(
    configuration: Configuration = Configuration(), seed: UInt64 = 0,
    budget: MemoryBudget = MemoryBudget()
  ) {
    self.configuration = configuration
    endpoints = HandleTable(limit: configuration.maximumEndpoints)
    random = PseudoRandomGenerator(seed: seed)
    self.budget = budget
  }

  // MARK: Endpoints

  /// Binds `port` (0 picks a free ephemeral port) on `address` (nil: any of ours, of either
  /// family), and on `otherFamilyAddress` too when given (one port can have one endpoint:
  /// a service at an IPv4 and an IPv6 address binds both at once). With
  /// `acceptsOtherAddresses`, the endpoint also takes datagrams to a unicast
  /// address that is not ours while the IPv4 layer delivers them
  /// (``UDPEndpoint/acceptsOtherAddresses``). With `takesFlowOnly`, it takes no datagram by
  /// its port, only those given to it by ``input(_:datagram:to:)``
  /// (``UDPEndpoint/takesFlowOnly``).
  public mutating func bind(
    address: IPAddress? = nil, otherFamilyAddress: IPAddress? = nil, port: UInt16,
    acceptsOtherAddresses: Bool = false, takesFlowOnly: Bool = false
  ) throws(UDPError) -> UDPEndpointID {
    guard !endpoints.isFull else { throw .tooManyEndpoints }
    let chosen: UInt16
    if port != 0 {
      guard endpointByPort[port] == nil else { throw .addressInUse }
      chosen = port
    } else {
      guard let free = freeEphemeralPort() else { throw .tooManyEndpoints }
      chosen = free
    }
    let endpoint = UDPEndpoint(
      localAddress: address?.isUnspecified == true ? nil : address,
      otherFamilyAddress: otherFamilyAddress, localPort: chosen,
      acceptsOtherAddresses: acceptsOtherAddresses, takesFlowOnly: takesFlowOnly,
      datagramLimit: configuration.queueDatagramLimit, byteLimit: configuration.queueByteLimit)
    guard let id = endpoints.insert(endpoint) else { throw .tooManyEndpoints }
    endpointByPort[chosen] = id
    return id
  }

  /// Unbinds the endpoint; queued datagrams are discarded.
  public mutating func close(_ id: UDPEndpointID) {
    guard var endpoint = endpoints.remove(id) else { return }
    endpointByPort[endpoint.localPort] = nil
    while endpoint.dequeue(budget: budget) != nil { queuedDatagrams -= 1 }
  }

  /// The endpoint behind `id`, if it is still open.
  public func endpoint(_ id: UDPEndpointID) -> UDPEndpoint? { endpoints[id] }

  /// Takes the oldest datagram queued on the endpoint.
  public mutating func receive(from id: UDPEndpointID) -> UDPReceivedDatagram? {
    guard queuedDatagrams > 0 else { return nil }
    let budget = budget
    // `update` gives nil for a closed endpoint and `.some(nil)` for an empty one: only a
    // datagram taken counts down.
    guard let taken = endpoints.update(id, { $0.dequeue(budget: budget) }),
      let datagram = taken
    else { return nil }
    queuedDatagrams -= 1
    return datagram
  }

  /// Number of endpoints bound.
  public var endpointCount: Int { endpoints.count }

  /// The bound ports, in order.
  public var boundPorts: [UInt16] { endpointByPort.keys.sorted() }

  private mutating func freeEphemeralPort() -> UInt16? {
    let bound = endpointByPort
    return EphemeralPorts(configuration.ephemeralPorts).pick(using: &random) { bound[$0] == nil }
  }

  // MARK: Sending

  /// Sends `payload` from the endpoint to `destination`:`port`, from the address the endpoint
  /// is bound to or the one the network chooses (0.0.0.0 for an IPv4 limited broadcast
  /// before the interface has an address: DHCP's DISCOVER).
  public mutating func send<Network: TransportNetwork>(
    _ payload: Span<UInt8>, from id: UDPEndpointID, to destination: IPAddress, port: UInt16,
    through network: inout Network, now: Instant
  ) throws(UDPError) {
    guard let endpoint = endpoint(id) else { throw .invalidEndpoint }
    guard payload.count <= UDPHeader.maximumPayload else { throw .messageTooLong }
    guard
      let source = endpoint.sourceAddress(for: destination)
        ?? network.sourceAddress(for: destination)
        ?? (destination.isLimitedBroadcast ? IPAddress.v4(.any) : nil)
    else {
      counters.sendErrors += 1
      throw .noRoute
    }
    try transmit(
      payload, from: source, port: endpoint.localPort, to: destination, port: port,
      through: &network, now: now)
  }

  /// Sends `payload` for endpoint `id` from `source`:`sourcePort`, an address and port its
  /// owner chose and the stack need not own (a published port's flow showing the guest its
  /// client, ``UDPEndpoint/takesFlowOnly``), to `destination`:`port`. Counted as
  /// ``send(_:from:to:port:through:now:)`` counts.
  public mutating func send<Network: TransportNetwork>(
    _ payload: Span<UInt8>, from id: UDPEndpointID, source: IPAddress, sourcePort: UInt16,
    to destination: IPAddress, port: UInt16, through network: inout Network, now: Instant
  ) throws(UDPError) {
    guard endpoint(id) != nil else { throw .invalidEndpoint }
    guard payload.count <= UDPHeader.maximumPayload else { throw .messageTooLong }
    try transmit(
      payload, from: source, port: sourcePort, to: destination, port: port, through: &network,
      now: now)
  }

  /// Builds the datagram (header and checksum, RFC 768) and hands it to `network`; counted
  /// as sent, or as a send error.
  private mutating func transmit<Network: TransportNetwork>(
    _ payload: Span<UInt8>, from source: IPAddress, port sourcePort: UInt16,
    to destination: IPAddress, port: UInt16, through network: inout Network, now: Instant
  ) throws(UDPError) {
    let packet = network.makePacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + UDPHeader.length + payload.count,
      headroom: PacketBuffer.defaultHeadroom)
    packet.append(copying: payload)
    UDPHeader(sourcePort: sourcePort, destinationPort: port)
      .prepend(to: packet, source: source, destination: destination)
    do {
      try network.send(
        packet, protocolNumber: .udp, to: destination,
        options: TransportSendOptions(source: source),
        now: now)
    } catch {
      counters.sendErrors += 1
      throw error == .tooLarge ? .messageTooLong : .noRoute
    }
    counters.datagramsSent += 1
  }

  // MARK: Receiving

  /// Handles a datagram either network layer delivered: `bytes` is the UDP header and
  /// payload, `delivery` its addresses and whether the device vouched for the checksum.
  public mutating func input(_ delivery: TransportDelivery, datagram bytes: Span<UInt8>)
    -> UDPInput
  {
    guard let datagram = checkedDatagram(delivery, bytes) else { return .dropped }
    guard let id = endpointByPort[datagram.destinationPort],
      let endpoint = endpoints[id], endpoint.accepts(delivery)
    else {
      return refuse(delivery)
    }
    guard !endpoint.takesFlowOnly else {
      // Answered as a closed port (as Linux answers a datagram that matches no socket but a
      // connected one's port): nothing tells a prober that the port is in use.
      counters.droppedOutsideFlow += 1
      return .portUnreachable
    }
    return enqueue(datagram, delivery: delivery, on: id)
  }

  /// Handles a datagram for an endpoint the caller has chosen by the datagram's four numbers
  /// rather than its destination port: the answer of a peer to an address and port the
  /// endpoint sent from but does not own (a published port's flow showing its client's
  /// address; see `DirectStack+ChosenSourceUDP.swift`). Checked as ``input(_:datagram:)``
  /// checks; nothing is answered when it is dropped.
  public mutating func input(
    _ delivery: TransportDelivery, datagram bytes: Span<UInt8>, to id: UDPEndpointID
  ) -> UDPInput {
    guard let datagram = checkedDatagram(delivery, bytes) else { return .dropped }
    guard endpoints[id] != nil else {
      counters.droppedNotForUs += 1
      return .dropped
    }
    return enqueue(datagram, delivery: delivery, on: id)
  }

  /// Counts a datagram in and checks it (RFC 768: the header and length; the checksum unless
  /// the device vouched for it); nil, counted, when it is dropped.
  @_lifetime(copy bytes)
  private mutating func checkedDatagram(_ delivery: TransportDelivery, _ bytes: Span<UInt8>)
    -> UDPDatagram?
  {
    counters.datagramsReceived += 1
    let datagram: UDPDatagram
    do {
      datagram = try UDPDatagram(checking: bytes)
    } catch .truncated {
      counters.droppedTruncated += 1
      return nil
    } catch {
      counters.droppedBadLength += 1
      return nil
    }
    if !delivery.checksumVerified
      && !datagram.checksumIsValid(source: delivery.source, destination: delivery.destination)
    {
      counters.droppedBadChecksum += 1
      return nil
    }
    return datagram
  }

  /// Queues a checked datagram on endpoint `id`, or drops it (counted) when it is full.
  private mutating func enqueue(
    _ datagram: UDPDatagram, delivery: TransportDelivery, on id: UDPEndpointID
  ) -> UDPInput {
    let received = UDPReceivedDatagram(
      source: delivery.source, sourcePort: datagram.sourcePort, destination: delivery.destination,
      payload: datagram.payload.copyToArray())
    let budget = budget
    guard endpoints.update(id, { $0.enqueue(received, budget: budget) }) == true else {
      counters.droppedQueueFull += 1
      return .dropped
    }
    queuedDatagrams += 1
    counters.datagramsDelivered += 1
    return .delivered(id)
  }

  /// No endpoint takes the datagram: port unreachable, unless it was addressed to another
  /// host, which nothing answers.
  private mutating func refuse(_ delivery: TransportDelivery) -> UDPInput {
    if delivery.isForOtherAddress {
      counters.droppedNotForUs += 1
      return .dropped
    }
    counters.droppedNoPort += 1
    return .portUnreachable
  }
}

/// What ``UDPLayer/input(_:datagram:)`` did with a datagram.
public enum UDPInput: Equatable, Sendable {
  /// Queued on this endpoint.
  case delivered(UDPEndpointID)
  /// Malformed, bad checksum or queue full: dropped and counted.
  case dropped
  /// No endpoint: the caller should answer with ICMP port unreachable.
  case portUnreachable
}
