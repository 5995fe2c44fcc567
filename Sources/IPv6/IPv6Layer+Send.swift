import NetCore

extension IPv6Layer {
  /// Bytes of headers below the transport (IPv6's fixed header and the link's): the headroom
  /// a transport leaves in front of its header.
  public var headroom: Int { link.headerLength + IPv6Header.length }

  /// Whether the link takes TCP segments larger than the MTU (TSO) and fills in transport
  /// checksums.
  public var supportsSegmentationOffload: Bool { link.supportsSegmentationOffload }

  /// The path MTU towards `destination` (RFC 8201): the link MTU, or less after a packet too
  /// big; never below 1280.
  public func pathMTU(to destination: IPv6Address) -> Int {
    pathMTUs.pathMTU(to: destination, linkMTU: mtu)
  }

  /// The largest transport packet that fits one unfragmented packet to `destination`.
  public func maximumPayloadSize(to destination: IPv6Address) -> Int {
    pathMTU(to: destination) - IPv6Header.length
  }

  /// The source address towards `destination` (RFC 6724, simplified), or nil when the
  /// interface has no usable address.
  public func sourceAddress(for destination: IPv6Address) -> IPv6Address? {
    addressTable.sourceAddress(for: destination)
  }

  /// An empty buffer for a transport to fill: the link's reused buffers where it has them.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    link.makePacketBuffer(capacity: capacity, headroom: headroom)
  }

  /// The neighbour packets to `destination` go to (RFC 4861 §5.2, without a destination
  /// cache): a redirected next hop, the destination itself when it is on-link (link-local or
  /// in an on-link prefix), else a default router; nil when nothing covers it (RFC 4943).
  mutating func nextHop(for destination: IPv6Address) -> IPv6Address? {
    if let redirected = redirects.nextHop(for: destination) { return redirected }
    if destination.isLinkLocal || prefixes.isOnLink(destination) { return destination }
    let cache = neighbourCache
    return routers.select { router in
      guard let entry = cache.entry(for: router) else { return false }
      return entry.state.linkLayerAddress != nil
    }
  }

  /// Sends `payload` (an upper-layer header and data) to `destination`, choosing the source
  /// (unless given), the next hop and its link-layer address, and fragmenting it when it is
  /// larger than the path MTU and fragmenting is allowed.
  public mutating func send(
    _ payload: PacketBuffer, nextHeader: IPv6NextHeader, to destination: IPv6Address,
    options: IPv6SendOptions, now: Instant
  ) throws(IPv6SendError) {
    guard !destination.isUnspecified, !destination.isLoopback else {
      counters.sendNoRoute += 1
      throw .noRoute
    }
    guard !destination.isIPv4Mapped else {
      // An IPv4 destination written as IPv6 (RFC 4038 §4.2): it belongs to IPv4, never to
      // the IPv6 wire (RFC 4942 §2.2).
      counters.sendIPv4Mapped += 1
      throw .noRoute
    }
    let source: IPv6Address
    if let given = options.source {
      guard addressTable.isAssigned(given) || sendsAsRelay(from: given) else {
        counters.sendNoSourceAddress += 1
        throw .noSourceAddress
      }
      source = given
    } else if let chosen = sourceAddress(for: destination) {
      source = chosen
    } else {
      counters.sendNoSourceAddress += 1
      throw .noSourceAddress
    }
    guard payload.count <= IPv6Header.maximumPayloadLength else {
      counters.sendTooLarge += 1
      throw .tooLarge
    }
    let neighbour: IPv6Address?
    if destination.isMulticast {
      neighbour = nil
    } else if let hop = nextHop(for: destination) {
      neighbour = hop
    } else {
      counters.sendNoRoute += 1
      throw .noRoute
    }
    let header = IPv6Header(
      source: source, destination: destination, nextHeader: nextHeader,
      payloadLength: payload.count,
      hopLimit: options.hopLimit ?? (destination.isMulticast ? 1 : hopLimit),
      trafficClass: options.trafficClass, flowLabel: options.flowLabel)

    let segmented: Bool
    if case .tcpSegmentation = payload.offload { segmented = true } else { segmented = false }
    let pathMTU = pathMTU(to: destination)
    if IPv6Header.length + payload.count <= pathMTU || segmented {
      header.prepend(to: payload)
      deliver(payload, to: destination, neighbour: neighbour, now: now)
      counters.packetsSent += 1
      return
    }
    guard !options.dontFragment else {
      counters.sendTooLarge += 1
      throw .tooLarge
    }
    // RFC 8200 §4.5: the source cuts; the identification is unpredictable (RFC 7739).
    payload.completeOffloadedChecksum()
    let identification = UInt32(truncatingIfNeeded: random.next())
    let fragments = payload.withBytes { bytes in
      IPv6Fragmenter.fragments(
        of: bytes, header: header, identification: identification, mtu: pathMTU,
        headroom: link.headerLength)
    }
    for fragment in fragments {
      deliver(fragment, to: destination, neighbour: neighbour, now: now)
      counters.fragmentsSent += 1
    }
    counters.packetsSent += 1
  }

  /// Hands a complete packet to the link: a group's packet straight to its multicast
  /// address, any other through its neighbour's resolution.
  private mutating func deliver(
    _ packet: PacketBuffer, to destination: IPv6Address, neighbour: IPv6Address?, now: Instant
  ) {
    if let neighbour {
      transmit(packet, toNeighbour: neighbour, now: now)
    } else {
      link.send(packet, to: MACAddress(multicast: destination), now: now)
    }
  }

  /// Sends `packet` to `neighbour`'s link-layer address, or queues it while a solicitation
  /// finds it (RFC 4861 §7.2.2).
  mutating func transmit(_ packet: PacketBuffer, toNeighbour neighbour: IPv6Address, now: Instant) {
    let evictions = neighbourCache.evictions
    let dropsBefore = neighbourCache.queuedDroppedByEviction
    let resolution = neighbourCache.resolve(neighbour, packet: packet, now: now)
    ndpCounters.cacheEvictions = neighbourCache.evictions
    if neighbourCache.evictions != evictions {
      ndpCounters.pendingTimedOut += neighbourCache.queuedDroppedByEviction - dropsBefore
    }
    switch resolution {
    case .send(let mac):
      link.send(packet, to: mac, now: now)
    case .queued(let solicit):
      if solicit { sendNeighbourSolicitation(for: neighbour, unicast: nil, now: now) }
    case .dropped:
      ndpCounters.pendingOverflow += 1
      counters.sendNeighbourDropped += 1
    }
  }

  /// Sends `packet` to a known link-layer address (packets released from a neighbour's
  /// queue).
  mutating func transmit(_ packet: PacketBuffer, toLinkLayer mac: MACAddress, now: Instant) {
    link.send(packet, to: mac, now: now)
  }
}
