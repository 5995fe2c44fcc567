import ARP
import Ethernet
import NetCore

/// The ARP side of the link (RFC 826, RFC 5227): answering and learning from received ARP,
/// announcements and probes, requests for next hops, and the packets waiting for them.
extension EthernetLink {
  mutating func receiveARP(_ bytes: Span<UInt8>, now: Instant) {
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
      addressClaims.count < EthernetLink.addressClaimLimit
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
    // Our address, or one of the others we answer for (a relay's DNS address).
    let target = message.targetProtocolAddress
    let answered: IPv4Address? =
      ours == nil ? nil : target == ours || additionalAddresses.contains(target) ? target : nil
    let isForUs = answered != nil
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
    if message.operation == .request, let answered {
      // A probe (sender 0.0.0.0, RFC 5227 §2.1.1) is answered like any request.
      let reply = ARPMessage(
        operation: .reply, senderHardwareAddress: hardwareAddress, senderProtocolAddress: answered,
        targetHardwareAddress: message.senderHardwareAddress, targetProtocolAddress: sender)
      sendARP(reply, to: message.senderHardwareAddress)
      arpCounters.repliesSent += 1
    }
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

  mutating func queue(_ packet: PacketBuffer, for nextHop: IPv4Address) {
    if !pending.enqueue(packet, for: nextHop) { arpCounters.pendingOverflow += 1 }
  }

  /// Drops the packets waiting for addresses the cache no longer holds: a full cache evicted
  /// their entry while it was being resolved, so no reply or failure would ever release them.
  mutating func dropStrandedPackets() {
    arpCounters.pendingTimedOut += UInt64(pending.drop { cache.entry(for: $0) == nil })
  }

  mutating func sendRequest(for target: IPv4Address, to mac: MACAddress?) {
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
}
