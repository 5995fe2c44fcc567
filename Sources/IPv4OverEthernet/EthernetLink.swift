import ARP
import Ethernet
import NetCore

/// IPv4 over Ethernet: frames IPv4 packets, pads frames to the minimum length, resolves next
/// hops with ARP, answers ARP for our address, and queues frames for the device (RFC 894,
/// RFC 826, RFC 1122 §2.3.2). It also carries IPv6 (RFC 2464): received IPv6 frames come out
/// as ``EthernetInput/ipv6(packet:linkMulticast:)``, IPv6 packets go out framed to the MAC the
/// IPv6 layer resolved (``sendIPv6(_:to:)``), and its filter takes the IPv6 groups joined
/// (`joinMulticastGroup(_:)` with an `IPv6Address`). Neighbour discovery is IPv6's own.
///
/// This is the `IPv4Link` the direct stack runs on; the driver underneath (TAP, Unix socket,
/// netfront) only ever sees whole frames through ``receive(_:now:)`` and ``transmitQueue``.
/// The layers above never think about Ethernet: they get the IPv4 packet a frame carries
/// (``EthernetInput/ipv4(packet:linkBroadcast:)``) and hand over IPv4 packets of any size,
/// which the link pads (copying only a packet whose buffer has no room for the padding; the
/// buffers it hands out always have). The ARP side is in `EthernetLink+ARP.swift`.
public struct EthernetLink: IPv4Link {
  /// Our hardware address.
  public let hardwareAddress: MACAddress
  /// The largest IPv4 packet in one frame (1500 on a standard Ethernet): the device's MTU,
  /// or less when ``setMTU(_:)`` lowered it (a DHCP lease's interface MTU option).
  public private(set) var mtu: Int
  /// The device's MTU, the most ``mtu`` can be.
  public let deviceMTU: Int
  /// Whether the device takes oversized TCP segments and checksum work (virtio-net header).
  public var supportsSegmentationOffload: Bool
  public var headerLength: Int { EthernetHeader.length }

  /// Our IPv4 address on this link, if configured.
  public private(set) var address: IPv4CIDR?
  /// Which destination MACs we accept.
  public private(set) var filter: EthernetFilter
  /// The neighbour cache.
  public internal(set) var cache: ARPCache
  /// Packets waiting for their next hop's address.
  var pending: ARPPendingQueue
  /// Frames ready for the device, oldest first; the runtime drains it.
  public var transmitQueue: FrameQueue
  /// Buffers of frames the device has written, for the layers above to fill again; the
  /// stack's poll gives them back once the device has written them.
  public var transmitBuffers = PacketBufferPool()

  public internal(set) var ethernetCounters = EthernetCounters()
  public internal(set) var arpCounters = ARPCounters()
  /// Frames dropped because ``transmitQueue`` was full.
  public private(set) var transmitQueueDrops: UInt64 = 0
  /// An address being probed before use (RFC 5227 §2.1.1, a DHCP client's offer): ARP packets
  /// from other hosts that claim it are recorded in ``addressClaims``.
  public var watchedAddress: IPv4Address?
  /// Addresses besides ``address`` whose ARP requests we answer with our MAC while we have an
  /// address (a relay's DNS and host-loopback addresses, RFC 826); at most a few.
  public var additionalAddresses: [IPv4Address] = []
  /// Claims of ``watchedAddress`` seen since the last ``takeAddressClaims()`` (at most
  /// ``addressClaimLimit``).
  public internal(set) var addressClaims: [ARPAddressClaim] = []
  /// The most claims ``addressClaims`` holds.
  public static let addressClaimLimit = 8
  /// The smallest IPv4 packet a frame carries without padding (60 − 14 bytes, RFC 894).
  public static let minimumPacketLength =
    EthernetHeader.minimumFrameLength - EthernetHeader.length

  public init(
    hardwareAddress: MACAddress, mtu: Int = 1500,
    cacheConfiguration: ARPCache.Configuration = ARPCache.Configuration(),
    transmitQueueLimit: Int = 4096, supportsSegmentationOffload: Bool = false,
    budget: MemoryBudget = MemoryBudget()
  ) {
    precondition(mtu >= 68, "IPv4 needs an MTU of at least 68 (RFC 791)")
    self.hardwareAddress = hardwareAddress
    self.mtu = mtu
    deviceMTU = mtu
    self.supportsSegmentationOffload = supportsSegmentationOffload
    filter = EthernetFilter(address: hardwareAddress)
    cache = ARPCache(configuration: cacheConfiguration)
    pending = ARPPendingQueue(budget: budget)
    transmitQueue = FrameQueue(limit: transmitQueueLimit, budget: budget)
  }

  // MARK: Receiving

  /// Handles one received frame. ARP is answered here; returns `.ipv4` with the IPv4 packet
  /// the frame carries, for the IPv4 layer.
  @_lifetime(copy bytes)
  public mutating func receive(_ bytes: Span<UInt8>, now: Instant) -> EthernetInput {
    ethernetCounters.framesReceived += 1
    let frame: EthernetFrame
    do {
      frame = try EthernetFrame(checking: bytes)
    } catch {
      ethernetCounters.droppedTruncated += 1
      return .consumed
    }
    switch filter.check(frame) {
    case .accept: break
    case .notForUs:
      ethernetCounters.droppedNotForUs += 1
      return .consumed
    case .notJoined:
      ethernetCounters.droppedNotJoined += 1
      return .consumed
    case .badSource:
      ethernetCounters.droppedBadSource += 1
      return .consumed
    }
    switch frame.etherType {
    case .ipv4:
      return .ipv4(packet: frame.payload, linkBroadcast: frame.destination.isMulticast)
    case .ipv6:
      return .ipv6(packet: frame.payload, linkMulticast: frame.destination.isMulticast)
    case .arp:
      receiveARP(frame.payload, now: now)
      return .consumed
    default:
      ethernetCounters.droppedUnknownType += 1
      return .consumed
    }
  }

  // MARK: Sending

  public mutating func send(_ packet: PacketBuffer, to nextHop: IPv4Address, now: Instant) {
    if nextHop.isBroadcast || address?.isDirectedBroadcast(nextHop) == true {
      frame(packet, to: .broadcast, type: .ipv4)
      return
    }
    if nextHop.isMulticast {
      frame(packet, to: MACAddress(multicast: nextHop), type: .ipv4)
      return
    }
    let evictions = cache.evictions
    let lookup = cache.lookup(nextHop, now: now)
    if cache.evictions != evictions { dropStrandedPackets() }
    switch lookup {
    case .resolved(let mac):
      frame(packet, to: mac, type: .ipv4)
    case .resolvedProbe(let mac):
      frame(packet, to: mac, type: .ipv4)
      sendRequest(for: nextHop, to: mac)
    case .startResolution:
      queue(packet, for: nextHop)
      sendRequest(for: nextHop, to: nil)
    case .pending:
      queue(packet, for: nextHop)
    }
  }

  public mutating func setAddress(_ newAddress: IPv4CIDR?, now: Instant) {
    address = newAddress
    if newAddress != nil { announce() }
  }

  /// Lowers the MTU below the device's (nil: back to the device's); a value above the
  /// device's MTU is capped to it, one below 68 raised to 68 (RFC 791).
  public mutating func setMTU(_ newMTU: Int?) {
    mtu = min(max(newMTU ?? deviceMTU, 68), deviceMTU)
  }

  /// Accepts frames for an IPv4 multicast group.
  public mutating func joinMulticastGroup(_ group: IPv4Address) -> Bool {
    filter.join(group)
  }

  /// Accepts frames for an IPv6 multicast group (RFC 2464 §7); false when the filter is full
  /// (counted).
  @discardableResult
  public mutating func joinMulticastGroup(_ group: IPv6Address) -> Bool {
    if filter.join(group) { return true }
    ethernetCounters.multicastJoinsRefused += 1
    return false
  }

  /// Stops accepting frames for an IPv6 multicast group.
  public mutating func leaveMulticastGroup(_ group: IPv6Address) {
    filter.leave(group)
  }

  /// Frames an IPv6 packet to `destination` (a neighbour's MAC, or a group's 33:33 MAC: the
  /// IPv6 layer resolved it) and queues it for the device (RFC 2464 §3).
  public mutating func sendIPv6(_ packet: PacketBuffer, to destination: MACAddress) {
    frame(packet, to: destination, type: .ipv6)
  }

  // MARK: Timers

  public mutating func poll(now: Instant) {
    for event in cache.poll(now: now) {
      switch event {
      case .sendRequest(let target, let mac):
        sendRequest(for: target, to: mac)
      case .failed(let target):
        arpCounters.resolutionFailures += 1
        arpCounters.pendingTimedOut += UInt64(pending.drop(target))
      }
    }
    arpCounters.cacheEvictions = cache.evictions
  }

  public var nextDeadline: Instant? { cache.nextDeadline }

  /// Packets waiting for address resolution.
  public var pendingCount: Int { pending.count }

  // MARK: Framing

  /// A buffer from ``transmitBuffers``, with room for the padding whatever `capacity` asks.
  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    transmitBuffers.take(
      capacity: max(capacity, headroom + EthernetLink.minimumPacketLength), headroom: headroom)
  }

  /// Prepends the Ethernet header, pads the frame to the minimum length (RFC 894: zeros after
  /// the packet) and queues it for the device.
  mutating func frame(_ packet: PacketBuffer, to destination: MACAddress, type: EtherType) {
    var packet = packet
    let padding = EthernetLink.minimumPacketLength - packet.count
    if padding > packet.tailroom {
      // A small packet allocated to its exact size has no room for the padding: copy its few
      // bytes into a buffer with the same headroom and room for the padding.
      let roomy = PacketBuffer(
        capacity: packet.headroom + EthernetLink.minimumPacketLength, headroom: packet.headroom)
      packet.withBytes { roomy.append(copying: $0) }
      roomy.offload = packet.offload
      packet = roomy
    }
    if padding > 0 {
      let end = packet.count
      packet.append(padding)
      packet.withMutableBytes { $0.zero(from: end, count: padding) }
    }
    EthernetHeader(destination: destination, source: hardwareAddress, etherType: type)
      .prepend(to: packet)
    if transmitQueue.append(packet) {
      ethernetCounters.framesSent += 1
    } else {
      transmitQueueDrops += 1
      ethernetCounters.droppedTransmitQueue += 1
    }
  }
}
