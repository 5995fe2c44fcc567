import NetCore

/// The IPv4 layer of one interface: validates and accepts datagrams for us, reassembles
/// fragments, answers ICMP echo, sends ICMP errors, routes and fragments what it sends
/// (RFC 791, RFC 792, RFC 1122 §3).
///
/// Generic over the link below (`EthernetLink` in the direct stack), which it owns. Transports
/// are separate values: ``receive(_:linkBroadcast:now:)`` tells the caller which datagram to
/// hand to which transport, and transports send through this layer as their `TransportNetwork`.
public struct IPv4Layer<Link: IPv4Link> {
  /// The link below.
  public var link: Link
  /// Our address on the link, with its prefix.
  public private(set) var address: IPv4CIDR?
  /// The default gateway, if any.
  public private(set) var gateway: IPv4Address?
  public private(set) var routes = IPv4RoutingTable()
  private var reassembler: IPv4Reassembler
  private var errorLimiter: ICMPv4RateLimiter
  private var nextIdentification: UInt16

  public internal(set) var counters = IPv4Counters()
  public internal(set) var icmpCounters = ICMPv4Counters()

  /// Echo replies received for requests this stack sent (``sendEchoRequest(to:identifier:sequence:payload:now:)``).
  public var echoReplies = BoundedQueue<ICMPv4EchoReply>(limit: 256)
  /// Checked "fragmentation needed" reports about datagrams this stack sent, for the
  /// transport that sent them to take (`receiveFragmentationNeeded(_:reporter:)`); a report
  /// that finds the queue full is dropped and counted.
  public var pathMTUReports = BoundedQueue<ICMPv4PathMTUReport>(limit: 16)
  /// Checked destination unreachable reports (other than fragmentation needed) about
  /// datagrams this stack sent, for the transport that sent them to take
  /// (`receiveDestinationUnreachable(_:reporter:)`); a report that finds the queue full is
  /// dropped and counted.
  public var unreachableReports = BoundedQueue<ICMPv4UnreachableReport>(limit: 16)
  /// Whether to answer echo requests sent to a broadcast or multicast address (Linux: no).
  public var answersBroadcastEcho = false
  /// TTL of datagrams we originate.
  public var timeToLive: UInt8 = IPv4Header.defaultTimeToLive
  /// Whether, while the interface has no address, whole datagrams to a unicast address that
  /// is not ours are delivered too, marked ``IPv4Delivery/isForOtherAddress``: a DHCP server
  /// may unicast its OFFER and ACK to the address it offers before the client has configured
  /// it (RFC 2131 §4.1; passt does so even when the client asked for broadcast). The direct
  /// stack sets it while its DHCP client runs; which datagrams are wanted is the transports'
  /// decision (a UDP endpoint that asked for them; TCP never), not this layer's. ICMP to
  /// another address is never answered. Fragments to another address are still dropped.
  public var acceptsOtherAddressesWhileUnconfigured = false
  /// Addresses taken as ours besides ``address`` (a relay's DNS address): datagrams to them are
  /// delivered to the transports and echo requests to them answered from them. The link must
  /// answer address resolution for them too (the direct stack sets both).
  public var additionalAddresses: [IPv4Address] = []
  /// Whether, once the interface has an address, whole datagrams to a unicast address that is
  /// not ours (routed to us as the guests' gateway) are delivered too, marked
  /// ``IPv4Delivery/isRelayed``, ICMP included, for a relay to re-originate (RFC 1812 §5.2:
  /// what a router receives for another host). Fragmented datagrams are reassembled first, in
  /// the same bounded reassembler as ours, so that the relay always sees whole datagrams.
  /// Off by default.
  public var relaysOtherDestinations = false

  /// A layer over `link`. `identificationSeed` starts the IP identification counter (the
  /// runtime passes a random value).
  public init(
    link: Link, identificationSeed: UInt16 = 0,
    reassembly: IPv4Reassembler.Configuration = IPv4Reassembler.Configuration(),
    errorRateLimiter: ICMPv4RateLimiter = ICMPv4RateLimiter(), budget: MemoryBudget = MemoryBudget()
  ) {
    self.link = link
    nextIdentification = identificationSeed
    reassembler = IPv4Reassembler(configuration: reassembly, budget: budget)
    errorLimiter = errorRateLimiter
  }

  /// Sets (or, with nil, removes) our address and default gateway. The on-link route for the
  /// address's network and a default route via the gateway replace any previous routes.
  public mutating func configure(
    address newAddress: IPv4CIDR?, gateway newGateway: IPv4Address?, now: Instant
  ) {
    address = newAddress
    gateway = newGateway
    routes.removeAll()
    if let newAddress {
      routes.add(.init(destination: newAddress.network, gateway: nil))
      if let newGateway {
        routes.add(
          .init(destination: IPv4CIDR(address: .any, prefixLength: 0), gateway: newGateway))
      }
    }
    link.setAddress(newAddress, now: now)
  }

  // MARK: Receiving

  /// Handles one received IPv4 packet (`bytes` is the link payload, padding included).
  ///
  /// ICMP is handled here; for other protocols the answer says which datagram to hand to a
  /// transport. `linkBroadcast` tells whether the frame was sent to a link-layer broadcast
  /// address (such datagrams never get an ICMP error, RFC 1122 §3.2.2).
  public mutating func receive(_ bytes: Span<UInt8>, linkBroadcast: Bool, now: Instant) -> IPv4Input
  {
    counters.packetsReceived += 1
    let packet: IPv4Packet
    do {
      packet = try IPv4Packet(checking: bytes)
    } catch {
      count(error)
      return .consumed
    }
    let source = packet.source
    // Our subnet's broadcast address is no host either: answering it would broadcast. A
    // loopback source never comes from a link (RFC 1122 §3.2.1.3 (g)).
    if source.isBroadcast || source.isMulticast || source.isReserved || source.isLoopback
      || address?.isDirectedBroadcast(source) == true
    {
      counters.droppedBadSource += 1
      return .consumed
    }
    let isForOtherAddress = !isForUs(packet.destination)
    let isRelayed = isForOtherAddress && relays(packet.destination)
    guard !isForOtherAddress || isRelayed || acceptsOtherAddress(packet) else {
      counters.droppedNotForUs += 1
      return .consumed
    }
    if packet.timeToLive <= 1 { counters.receivedLowTTL += 1 }
    guard packet.isFragment else {
      return accept(packet, linkBroadcast: linkBroadcast, isRelayed: isRelayed, now: now)
        ? .local(
          delivery(
            packet, linkBroadcast, isForOtherAddress: isForOtherAddress, isRelayed: isRelayed))
        : .consumed
    }

    counters.fragmentsReceived += 1
    let outcome = reassembler.add(packet, now: now)
    counters.reassemblyEvictions = reassembler.evictions
    switch outcome {
    case .incomplete, .duplicate:
      return .consumed
    case .dropped(let reason):
      switch reason {
      case .overlap: counters.reassemblyOverlaps += 1
      case .badFragment, .discarded: counters.reassemblyBadFragments += 1
      case .memory: counters.reassemblyDroppedMemory += 1
      }
      return .consumed
    case .complete(let buffer):
      counters.datagramsReassembled += 1
      return buffer.withBytes { bytes -> IPv4Input in
        guard let whole = try? IPv4Packet(checking: bytes) else { return .consumed }
        // Every fragment had the same destination, so the whole datagram goes where the
        // fragment that completed it would have gone: to us, or to the relay.
        return accept(whole, linkBroadcast: linkBroadcast, isRelayed: isRelayed, now: now)
          ? .reassembled(
            delivery(
              whole, linkBroadcast, isForOtherAddress: isForOtherAddress, isRelayed: isRelayed),
            buffer) : .consumed
      }
    }
  }

  /// Handles ICMP here; returns true when the datagram is for a transport, or for the relay
  /// (`isRelayed`, any protocol).
  private mutating func accept(
    _ packet: borrowing IPv4Packet, linkBroadcast: Bool, isRelayed: Bool, now: Instant
  ) -> Bool {
    if isRelayed {
      counters.packetsRelayed += 1
      return true
    }
    if packet.protocolNumber == .icmp {
      if isForUs(packet.destination) {
        receiveICMP(packet, now: now)
      } else {
        counters.droppedNotForUs += 1
      }
      return false
    }
    counters.packetsDelivered += 1
    return true
  }

  private func delivery(
    _ packet: borrowing IPv4Packet, _ linkBroadcast: Bool, isForOtherAddress: Bool = false,
    isRelayed: Bool = false
  ) -> IPv4Delivery {
    IPv4Delivery(
      header: packet.header, headerLength: packet.headerLength, linkBroadcast: linkBroadcast,
      isBroadcast: packet.destination.isBroadcast
        || address?.isDirectedBroadcast(packet.destination) == true,
      isForOtherAddress: isForOtherAddress, isRelayed: isRelayed)
  }

  /// Whether a datagram to `destination` is ours: our address, limited broadcast, our
  /// subnet's broadcast, or a multicast group the link accepted.
  private func isForUs(_ destination: IPv4Address) -> Bool {
    if destination.isBroadcast || destination.isMulticast { return true }
    guard let address else { return false }
    return destination == address.address || address.isDirectedBroadcast(destination)
      || additionalAddresses.contains(destination)
  }

  /// Whether a datagram to `destination`, which is not ours, goes to the relay
  /// (``relaysOtherDestinations``): a unicast address, while we have one of our own.
  private func relays(_ destination: IPv4Address) -> Bool {
    relaysOtherDestinations && address != nil && destination.isUnicast
  }

  /// Whether a datagram to another host's address is let in under
  /// ``acceptsOtherAddressesWhileUnconfigured``: a whole one, to a unicast address, while we
  /// have no address.
  private func acceptsOtherAddress(_ packet: borrowing IPv4Packet) -> Bool {
    acceptsOtherAddressesWhileUnconfigured && address == nil && !packet.isFragment
      && packet.destination.isUnicast
  }

  /// Drops a delivered datagram for another address (``IPv4Delivery/isForOtherAddress``) that
  /// its transport does not take (TCP never does): counted with the datagrams not for us, and
  /// never answered.
  public mutating func dropForOtherAddress() {
    counters.droppedNotForUs += 1
  }

  private mutating func count(_ error: WireError) {
    switch error {
    case .truncated: counters.droppedTruncated += 1
    case .unsupported: counters.droppedBadVersion += 1
    case .badLength: counters.droppedBadHeaderLength += 1
    case .badChecksum: counters.droppedBadChecksum += 1
    case .badOption: counters.droppedBadOptions += 1
    case .badAddress: counters.droppedBadSource += 1
    }
  }

  // MARK: ICMP

  private mutating func receiveICMP(_ packet: borrowing IPv4Packet, now: Instant) {
    icmpCounters.messagesReceived += 1
    let message: ICMPv4Packet
    do {
      message = try ICMPv4Packet(checking: packet.payload)
    } catch .badChecksum {
      icmpCounters.droppedBadChecksum += 1
      return
    } catch {
      icmpCounters.droppedTruncated += 1
      return
    }
    switch message.type {
    case .echoRequest:
      icmpCounters.echoRequestsReceived += 1
      // No answer to "this host" (0.0.0.0): it names nobody a reply could reach.
      guard !packet.source.isUnspecified else {
        icmpCounters.droppedBroadcastEcho += 1
        return
      }
      let destination = packet.destination
      let toGroup =
        destination.isBroadcast || destination.isMulticast
        || address?.isDirectedBroadcast(destination) == true
      if toGroup && !answersBroadcastEcho {
        icmpCounters.droppedBroadcastEcho += 1
        return
      }
      let reply = PacketBuffer(
        capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length + message.payload.count)
      reply.append(copying: message.payload)
      let request = message.header
      ICMPv4Header.echo(reply: true, identifier: request.identifier, sequence: request.sequence)
        .prepend(to: reply)
      let options = IPv4SendOptions(
        source: toGroup ? nil : destination, typeOfService: packet.typeOfService)
      if (try? send(reply, protocolNumber: .icmp, to: packet.source, options: options, now: now))
        != nil
      {
        icmpCounters.echoRepliesSent += 1
      }
    case .echoReply:
      let header = message.header
      let reply = ICMPv4EchoReply(
        source: packet.source, identifier: header.identifier, sequence: header.sequence,
        payloadLength: message.payload.count, receivedAt: now)
      if echoReplies.append(reply) {
        icmpCounters.echoRepliesReceived += 1
      } else {
        icmpCounters.droppedUnclaimedReplies += 1
      }
    case .destinationUnreachable
    where message.code == ICMPv4UnreachableCode.fragmentationNeeded.rawValue:
      icmpCounters.errorsReceived += 1
      receiveFragmentationNeeded(message, reporter: packet.source)
    case .destinationUnreachable:
      icmpCounters.errorsReceived += 1
      receiveDestinationUnreachable(message, reporter: packet.source)
    default:
      if message.type.isError { icmpCounters.errorsReceived += 1 }
    }
  }

  /// Sends an ICMP echo request (what `ping` sends) with `payload` as its data.
  public mutating func sendEchoRequest(
    to destination: IPv4Address, identifier: UInt16, sequence: UInt16, payload: Span<UInt8>,
    now: Instant
  ) throws(IPv4SendError) {
    let request = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length + payload.count)
    request.append(copying: payload)
    ICMPv4Header.echo(reply: false, identifier: identifier, sequence: sequence).prepend(to: request)
    try send(request, protocolNumber: .icmp, to: destination, options: IPv4SendOptions(), now: now)
    icmpCounters.echoRequestsSent += 1
  }

  /// Answers a received datagram with ICMP destination unreachable (port unreachable for
  /// UDP to a closed port, protocol unreachable for a protocol the stack lacks), unless the
  /// rules of RFC 1122 §3.2.2 forbid an error about it or the rate limit is reached.
  /// `packet` is the whole offending datagram.
  public mutating func sendDestinationUnreachable(
    _ code: ICMPv4UnreachableCode, about packet: Span<UInt8>, linkBroadcast: Bool, now: Instant
  ) {
    guard let original = try? IPv4Packet(checking: packet) else { return }
    let payload = original.payload
    sendError(
      ICMPv4Header(type: .destinationUnreachable, code: code.rawValue),
      about: original.header, quote: packet, firstPayloadByte: payload.isEmpty ? nil : payload[0],
      linkBroadcast: linkBroadcast, now: now)
  }

  /// Sends an echo reply from `source`, another host's address, to `destination`: the answer
  /// a relay got from `source` for a request `destination` sent through us (the relay keeps
  /// the request's identifier, sequence and data, RFC 792).
  public mutating func sendRelayedEchoReply(
    from source: IPv4Address, to destination: IPv4Address, identifier: UInt16, sequence: UInt16,
    payload: Span<UInt8>, now: Instant
  ) throws(IPv4SendError) {
    let reply = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length + payload.count)
    reply.append(copying: payload)
    ICMPv4Header.echo(reply: true, identifier: identifier, sequence: sequence).prepend(to: reply)
    try send(
      reply, protocolNumber: .icmp, to: destination, options: IPv4SendOptions(source: source),
      now: now)
    icmpCounters.echoRepliesRelayed += 1
  }

  /// The largest ICMP error, as RFC 1812 §4.3.2.3 suggests: 576 bytes of IP datagram.
  static var maximumErrorLength: Int { 576 }

  private mutating func sendError(
    _ error: ICMPv4Header, about header: IPv4Header, quote: Span<UInt8>, firstPayloadByte: UInt8?,
    linkBroadcast: Bool, now: Instant
  ) {
    // RFC 1122 §3.2.2: never about an ICMP error, a broadcast or multicast, a non-initial
    // fragment, or a source that is not one host.
    if linkBroadcast || header.fragmentOffset != 0 { return }
    let destination = header.destination
    if destination.isBroadcast || destination.isMulticast
      || address?.isDirectedBroadcast(destination) == true
    {
      return
    }
    if !header.source.isUnicast || header.source.isLoopback
      || address?.isDirectedBroadcast(header.source) == true
    {
      return
    }
    if header.protocolNumber == .icmp {
      guard let type = firstPayloadByte, !ICMPv4Type(rawValue: type).isError else { return }
    }
    guard errorLimiter.allow(now: now) else {
      icmpCounters.errorsRateLimited += 1
      return
    }
    let quoted = min(
      quote.count, IPv4Layer.maximumErrorLength - IPv4Header.length - ICMPv4Header.length)
    let message = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + ICMPv4Header.length + quoted)
    message.append(copying: quote.extracting(0..<quoted))
    error.prepend(to: message)
    let source =
      destination == address?.address || additionalAddresses.contains(destination)
      ? destination : nil
    if (try? send(
      message, protocolNumber: .icmp, to: header.source, options: IPv4SendOptions(source: source),
      now: now)) != nil
    {
      icmpCounters.errorsSent += 1
    }
  }

  // MARK: Sending

  /// The largest transport payload that fits one unfragmented packet on the link (MTU − 20).
  public var maximumPayloadSize: Int { link.mtu - IPv4Header.length }
  /// Whether the link takes TCP segments larger than the MTU (TSO) and fills in transport
  /// checksums.
  public var supportsSegmentationOffload: Bool { link.supportsSegmentationOffload }
  /// Bytes of headers below the transport (IPv4's and the link's).
  public var headroom: Int { link.headerLength + IPv4Header.length }

  /// An empty buffer to fill: the link's reused buffers where it has them.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    link.makePacketBuffer(capacity: capacity, headroom: headroom)
  }

  /// The source address towards `destination`: the interface address (0.0.0.0 while there is
  /// none, for a broadcast or multicast), or nil when no route covers it.
  public func sourceAddress(for destination: IPv4Address) -> IPv4Address? {
    if destination.isBroadcast || destination.isMulticast { return address?.address ?? .any }
    guard routes.nextHop(for: destination) != nil else { return nil }
    return address?.address
  }

  /// Sends `payload` (a transport header and data, or an ICMP message) to `destination`
  /// through the routing table, fragmenting it when it is larger than the MTU and DF is clear.
  public mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPv4Address,
    options: IPv4SendOptions, now: Instant
  ) throws(IPv4SendError) {
    let nextHop: IPv4Address
    if destination.isBroadcast || destination.isMulticast {
      nextHop = destination
    } else if let hop = routes.nextHop(for: destination) {
      nextHop = hop
    } else {
      counters.sendNoRoute += 1
      throw .noRoute
    }
    guard IPv4Header.length + payload.count <= IPv4Header.maximumDatagramLength else {
      counters.sendTooLarge += 1
      throw .tooLarge
    }
    nextIdentification &+= 1
    var header = IPv4Header(
      source: options.source ?? address?.address ?? .any, destination: destination,
      protocolNumber: protocolNumber, payloadLength: payload.count,
      identification: nextIdentification, typeOfService: options.typeOfService,
      timeToLive: options.timeToLive ?? timeToLive, dontFragment: options.dontFragment)

    let segmented: Bool
    if case .tcpSegmentation = payload.offload { segmented = true } else { segmented = false }
    if IPv4Header.length + payload.count <= link.mtu || segmented {
      header.prepend(to: payload)
      link.send(payload, to: nextHop, now: now)
      counters.packetsSent += 1
      return
    }
    guard !options.dontFragment else {
      counters.sendTooLarge += 1
      throw .tooLarge
    }
    // RFC 791 §3.2: cut the payload at multiples of 8 bytes; every fragment but the last has MF.
    let fragmentPayload = (link.mtu - IPv4Header.length) / 8 * 8
    payload.withBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let length = min(fragmentPayload, bytes.count - offset)
        let fragment = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + length)
        fragment.append(copying: bytes.extracting(offset..<(offset + length)))
        header.payloadLength = length
        header.fragmentOffset = offset
        header.moreFragments = offset + length < bytes.count
        header.prepend(to: fragment)
        link.send(fragment, to: nextHop, now: now)
        counters.fragmentsSent += 1
        offset += length
      }
    }
    counters.packetsSent += 1
  }

  // MARK: Timers

  /// Runs reassembly timeouts and the link's timers.
  public mutating func poll(now: Instant) {
    for expired in reassembler.poll(now: now) {
      counters.reassemblyTimeouts += 1
      guard let header = expired.firstHeader else { continue }
      // RFC 792: time exceeded, code 1 "fragment reassembly time exceeded".
      sendError(
        ICMPv4Header(type: .timeExceeded, code: 1), about: header, quote: expired.quote.span,
        firstPayloadByte: expired.firstPayloadByte, linkBroadcast: false, now: now)
    }
    link.poll(now: now)
  }

  /// When the layer (or its link) next needs ``poll(now:)``.
  public var nextDeadline: Instant? {
    Instant.earliest(reassembler.nextDeadline, link.nextDeadline)
  }

  /// Bytes held by datagrams being reassembled.
  public var reassemblyBytesHeld: Int { reassembler.bytesHeld }
}

/// A datagram for a transport, from ``IPv4Layer/receive(_:linkBroadcast:now:)`` (RFC 1122
/// §3.2.1: what IP passes up with the data).
public struct IPv4Delivery: Sendable {
  public var header: IPv4Header
  /// Where the payload starts in the packet's bytes.
  public var headerLength: Int
  /// Whether it came in a link-layer broadcast frame.
  public var linkBroadcast: Bool
  /// Whether it is addressed to the limited broadcast or the interface's directed broadcast.
  public var isBroadcast: Bool
  /// Whether it is addressed to a unicast address that is not ours, delivered only while the
  /// interface has no address and asked for such datagrams
  /// (``IPv4Layer/acceptsOtherAddressesWhileUnconfigured``). A transport hands it only to an
  /// endpoint that asked for it, and never answers it (no RST, no ICMP error).
  public var isForOtherAddress: Bool
  /// Whether it is addressed to another host and goes to the relay
  /// (``IPv4Layer/relaysOtherDestinations``), not to our transports; ICMP included.
  public var isRelayed: Bool

  public init(
    header: IPv4Header, headerLength: Int, linkBroadcast: Bool, isBroadcast: Bool = false,
    isForOtherAddress: Bool = false, isRelayed: Bool = false
  ) {
    self.header = header
    self.headerLength = headerLength
    self.linkBroadcast = linkBroadcast
    self.isBroadcast = isBroadcast
    self.isForOtherAddress = isForOtherAddress
    self.isRelayed = isRelayed
  }
}

/// What ``IPv4Layer/receive(_:linkBroadcast:now:)`` did with a packet.
public enum IPv4Input {
  /// Handled (ICMP), held (a fragment) or dropped and counted.
  case consumed
  /// A datagram for a transport: the received bytes, cut to the total length, are the packet.
  case local(IPv4Delivery)
  /// A reassembled datagram for a transport; the buffer holds the whole packet.
  case reassembled(IPv4Delivery, PacketBuffer)
}

/// An echo reply for a request this stack sent.
public struct ICMPv4EchoReply: Equatable, Sendable {
  public var source: IPv4Address
  public var identifier: UInt16
  public var sequence: UInt16
  public var payloadLength: Int
  public var receivedAt: Instant
}
