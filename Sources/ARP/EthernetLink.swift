import Ethernet
import NetCore

/// IPv4 over Ethernet: frames IPv4 packets, resolves next hops with ARP, answers ARP for our
/// address, and queues frames for the device (RFC 894, RFC 826, RFC 1122 §2.3.2).
///
/// This is the `IPv4Link` the direct stack runs on; the driver underneath (TAP, Unix socket,
/// netfront) only ever sees whole frames through ``receive(_:now:)`` and ``transmitQueue``.
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
  public private(set) var cache: ARPCache
  private var pending: ARPPendingQueue
  /// Frames ready for the device, oldest first; the runtime drains it.
  public var transmitQueue: FrameQueue
  /// Buffers of frames the device has written, for the layers above to fill again; the
  /// runtime gives them back (`PacketBufferPool/recycle(_:)`).
  public var transmitBuffers = PacketBufferPool()

  public private(set) var ethernetCounters = EthernetCounters()
  public private(set) var arpCounters = ARPCounters()
  /// Frames dropped because ``transmitQueue`` was full.
  public private(set) var transmitQueueDrops: UInt64 = 0
  /// An address being probed before use (RFC 5227 §2.1.1, a DHCP client's offer): ARP packets
  /// from other hosts that claim it are recorded in ``addressClaims``.
  public var watchedAddress: IPv4Address?
  /// Claims of ``watchedAddress`` seen since the last ``takeAddressClaims()`` (at most 8).
  public private(set) var addressClaims: [ARPAddressClaim] = []

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

  /// Handles one received frame. ARP is answered here; returns `.ipv4` when the frame's
  /// payload (from byte 14) is an IPv4 packet for the IPv4 layer.
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
    case .badSource:
      ethernetCounters.droppedBadSource += 1
      return .consumed
    }
    switch frame.etherType {
    case .ipv4:
      return .ipv4(linkBroadcast: frame.destination.isMulticast)
    case .arp:
      receiveARP(frame.payload, now: now)
      return .consumed
    default:
      ethernetCounters.droppedUnknownType += 1
      return .consumed
    }
  }

  private mutating func receiveARP(_ bytes: Span<UInt8>, now: Instant) {
    let message: ARPMessage
    do {
      message = try ARPPacket(checking: bytes).message
    } catch .truncated {
      arpCounters.droppedTruncated += 1
      return
    } catch {
      arpCounters.droppedUnsupported += 1
      return
    }
    switch message.operation {
    case .request: arpCounters.requestsReceived += 1
    case .reply: arpCounters.repliesReceived += 1
    default:
      arpCounters.droppedUnsupported += 1
      return
    }
    let sender = message.senderProtocolAddress
    // Our own MAC from another host is a spoof or a loop: believing it would make us send
    // frames to ourselves.
    guard message.senderHardwareAddress.isUnicast, message.senderHardwareAddress != hardwareAddress,
      !sender.isMulticast, !sender.isBroadcast, !sender.isReserved
    else {
      arpCounters.droppedBadAddress += 1
      return
    }
    if let watched = watchedAddress, message.senderHardwareAddress != hardwareAddress,
      sender == watched
        || (sender.isUnspecified && message.operation == .request
          && message.targetProtocolAddress == watched),
      addressClaims.count < 8
    {
      // The address is in use, or another host is probing it too (RFC 5227 §2.1.1).
      addressClaims.append(
        ARPAddressClaim(address: watched, hardwareAddress: message.senderHardwareAddress))
    }
    let ours = address?.address
    if let ours, sender == ours {
      // Someone else uses our address (RFC 5227 §2.4). Count it; do not learn it.
      arpCounters.addressConflicts += 1
      return
    }
    let isForUs = ours != nil && message.targetProtocolAddress == ours
    if !sender.isUnspecified {
      let evictions = cache.evictions
      let resolved = cache.update(
        sender, hardwareAddress: message.senderHardwareAddress, now: now, create: isForUs)
      if cache.evictions != evictions { dropStrandedPackets() }
      if resolved {
        for packet in pending.release(sender) {
          frame(packet, to: message.senderHardwareAddress, type: .ipv4)
        }
      }
    }
    if message.operation == .request, isForUs, let ours {
      // A probe (sender 0.0.0.0, RFC 5227 §2.1.1) is answered like any request.
      let reply = ARPMessage(
        operation: .reply, senderHardwareAddress: hardwareAddress, senderProtocolAddress: ours,
        targetHardwareAddress: message.senderHardwareAddress, targetProtocolAddress: sender)
      sendARP(reply, to: message.senderHardwareAddress)
      arpCounters.repliesSent += 1
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

  /// Broadcasts an ARP announcement of our address (RFC 5227 §3: a request with sender and
  /// target both our address), so that neighbours update their caches: gratuitous ARP.
  public mutating func announce() {
    guard let ours = address?.address else { return }
    let announcement = ARPMessage(
      operation: .request, senderHardwareAddress: hardwareAddress, senderProtocolAddress: ours,
      targetHardwareAddress: .zero, targetProtocolAddress: ours)
    sendARP(announcement, to: .broadcast)
    arpCounters.requestsSent += 1
  }

  /// Broadcasts an ARP probe for `target` (RFC 5227 §2.1.1: a request with sender address
  /// 0.0.0.0, so that no neighbour learns a mapping from it). Set ``watchedAddress`` to hear
  /// the answer.
  public mutating func sendProbe(for target: IPv4Address) {
    let probe = ARPMessage(
      operation: .request, senderHardwareAddress: hardwareAddress, senderProtocolAddress: .any,
      targetHardwareAddress: .zero, targetProtocolAddress: target)
    sendARP(probe, to: .broadcast)
    arpCounters.requestsSent += 1
  }

  /// Takes the claims of ``watchedAddress`` recorded since the last call.
  public mutating func takeAddressClaims() -> [ARPAddressClaim] {
    defer { addressClaims.removeAll() }
    return addressClaims
  }

  /// Records that `address` is at `hardwareAddress` without asking, and sends what waits for
  /// it: a DHCP server's way to unicast an offer to a client that cannot answer ARP for the
  /// address yet (RFC 2131 §4.1; Linux servers add the same entry with SIOCSARP).
  public mutating func learn(_ address: IPv4Address, hardwareAddress mac: MACAddress, now: Instant)
  {
    let evictions = cache.evictions
    cache.update(address, hardwareAddress: mac, now: now, create: true)
    if cache.evictions != evictions { dropStrandedPackets() }
    for packet in pending.release(address) { frame(packet, to: mac, type: .ipv4) }
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

  private mutating func queue(_ packet: PacketBuffer, for nextHop: IPv4Address) {
    if !pending.enqueue(packet, for: nextHop) { arpCounters.pendingOverflow += 1 }
  }

  /// Drops the packets waiting for addresses the cache no longer holds: a full cache evicted
  /// their entry while it was being resolved, so no reply or failure would ever release them.
  private mutating func dropStrandedPackets() {
    arpCounters.pendingTimedOut += UInt64(pending.drop { cache.entry(for: $0) == nil })
  }

  private mutating func sendRequest(for target: IPv4Address, to mac: MACAddress?) {
    let request = ARPMessage(
      operation: .request, senderHardwareAddress: hardwareAddress,
      senderProtocolAddress: address?.address ?? .any, targetHardwareAddress: .zero,
      targetProtocolAddress: target)
    sendARP(request, to: mac ?? .broadcast)
    arpCounters.requestsSent += 1
  }

  private mutating func sendARP(_ message: ARPMessage, to destination: MACAddress) {
    let packet = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + EthernetHeader.minimumFrameLength)
    packet.append(ARPPacket.length)
    packet.withMutableBytes { message.emit(into: &$0) }
    frame(packet, to: destination, type: .arp)
  }

  public mutating func makePacketBuffer(capacity: Int, headroom: Int) -> PacketBuffer {
    transmitBuffers.take(capacity: capacity, headroom: headroom)
  }

  /// Prepends the Ethernet header and queues the frame for the device.
  private mutating func frame(_ packet: PacketBuffer, to destination: MACAddress, type: EtherType) {
    var packet = packet
    let padding = EthernetHeader.minimumFrameLength - EthernetHeader.length - packet.count
    if padding > packet.tailroom {
      // A small packet allocated to its exact size has no room for the RFC 894 padding: copy
      // its few bytes into a buffer with the same headroom and room for the padding.
      let padded = PacketBuffer(
        capacity: packet.headroom + EthernetHeader.minimumFrameLength - EthernetHeader.length,
        headroom: packet.headroom)
      packet.withBytes { padded.append(copying: $0) }
      padded.offload = packet.offload
      packet = padded
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

/// What ``EthernetLink/receive(_:now:)`` found in a frame.
public enum EthernetInput: Equatable, Sendable {
  /// The payload, after the 14-byte header, is an IPv4 packet; `linkBroadcast` when the frame
  /// went to a broadcast or multicast MAC.
  case ipv4(linkBroadcast: Bool)
  /// Handled here (ARP) or dropped and counted.
  case consumed
}

/// Another host's claim to an address being probed: an ARP packet from `hardwareAddress` with
/// that address as its sender, or a probe of its own for it.
public struct ARPAddressClaim: Equatable, Sendable {
  public var address: IPv4Address
  public var hardwareAddress: MACAddress

  public init(address: IPv4Address, hardwareAddress: MACAddress) {
    self.address = address
    self.hardwareAddress = hardwareAddress
  }
}
