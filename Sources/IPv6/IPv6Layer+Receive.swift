import NetCore

extension IPv6Layer {
  /// Handles one received IPv6 packet (`bytes` is the link payload, padding included).
  ///
  /// ICMPv6, neighbour discovery and MLD are handled here; for a transport the answer says
  /// which packet to hand to it. `linkMulticast` tells whether the frame was sent to a
  /// link-layer multicast or broadcast address (RFC 4443 §2.4 e.4, e.5).
  public mutating func receive(_ bytes: Span<UInt8>, linkMulticast: Bool, now: Instant)
    -> IPv6Input
  {
    counters.packetsReceived += 1
    let packet: IPv6Packet
    do {
      packet = try IPv6Packet(checking: bytes)
    } catch .unsupported {
      counters.droppedBadVersion += 1
      return .consumed
    } catch {
      counters.droppedTruncated += 1
      return .consumed
    }
    let source = packet.source
    let destination = packet.destination
    // RFC 4291 §2.5.3, §2.7: neither loopback nor a group can send; RFC 4291 §2.5.5.2:
    // IPv4-mapped addresses never appear on the wire.
    if source.isMulticast || source.isLoopback || source.isIPv4Mapped || destination.isLoopback
      || destination.isIPv4Mapped || destination.isUnspecified
    {
      counters.droppedBadAddress += 1
      return .consumed
    }
    guard isForUs(destination) || relays(from: source, to: destination) else {
      counters.droppedNotForUs += 1
      return .consumed
    }
    let walk = walker.walk(
      packet.bytes, from: .start(nextHeader: packet.nextHeader),
      destinationIsMulticast: destination.isMulticast)
    return follow(walk, packet: packet, linkMulticast: linkMulticast, now: now)
  }

  /// Whether a packet to `destination` is ours: a usable address of the interface, or a
  /// group it listens to. A tentative address receives nothing (RFC 4862 §5.4: its
  /// neighbour discovery goes to its solicited-node group).
  func isForUs(_ destination: IPv6Address) -> Bool {
    if destination.isMulticast { return multicast.isListening(to: destination) }
    return addressTable.isAssigned(destination)
  }

  /// Acts on what the walk of `packet`'s extension headers found.
  mutating func follow(
    _ verdict: IPv6HeaderChainVerdict, packet: borrowing IPv6Packet, linkMulticast: Bool,
    now: Instant
  ) -> IPv6Input {
    switch verdict {
    case .discard(let reason):
      count(reason)
      return .consumed
    case .parameterProblem(let code, let pointer, let reason):
      count(reason)
      sendParameterProblem(
        code, pointer: pointer, about: packet.bytes, linkMulticast: linkMulticast, now: now)
      return .consumed
    case .noNextHeader:
      counters.receivedNoNextHeader += 1
      return .consumed
    case .upperLayer(let nextHeader, let offset, let fieldOffset):
      return upperLayer(
        nextHeader, at: offset, nextHeaderField: fieldOffset, packet: packet,
        linkMulticast: linkMulticast, now: now)
    case .fragment(let header, let offset, let fieldOffset, let headersSeen):
      counters.fragmentsReceived += 1
      let after = IPv6ExtensionHeaderWalker.Position(
        offset: offset + IPv6FragmentHeader.length, nextHeader: header.nextHeader,
        nextHeaderFieldOffset: offset, headersSeen: headersSeen)
      if header.isAtomic {
        // RFC 6946: a whole packet in one fragment is processed on its own.
        counters.atomicFragmentsReceived += 1
        let rest = walker.walk(
          packet.bytes, from: after, destinationIsMulticast: packet.destination.isMulticast)
        if case .fragment = rest {
          counters.reassemblyBadFragments += 1
          return .consumed
        }
        return follow(rest, packet: packet, linkMulticast: linkMulticast, now: now)
      }
      if header.fragmentOffset == 0 && !walker.holdsWholeHeaderChain(packet.bytes, from: after) {
        // RFC 8200 §4.5, RFC 7112 §5: parameter problem code 3, pointer 0.
        counters.reassemblyIncompleteChains += 1
        sendParameterProblem(
          .incompleteHeaderChain, pointer: 0, about: packet.bytes, linkMulticast: linkMulticast,
          now: now)
        return .consumed
      }
      return reassemble(
        packet, header: header, at: offset, nextHeaderField: fieldOffset,
        linkMulticast: linkMulticast, now: now)
    }
  }

  private mutating func reassemble(
    _ packet: borrowing IPv6Packet, header: IPv6FragmentHeader, at offset: Int,
    nextHeaderField: Int, linkMulticast: Bool, now: Instant
  ) -> IPv6Input {
    let outcome = reassembler.add(
      packet.bytes, header: header, fragmentHeaderOffset: offset,
      nextHeaderFieldOffset: nextHeaderField, now: now)
    counters.reassemblyEvictions = reassembler.evictions
    switch outcome {
    case .incomplete, .duplicate:
      return .consumed
    case .parameterProblem(let pointer):
      counters.reassemblyBadFragments += 1
      sendParameterProblem(
        .erroneousHeaderField, pointer: pointer, about: packet.bytes,
        linkMulticast: linkMulticast, now: now)
      return .consumed
    case .dropped(let reason):
      switch reason {
      case .overlap: counters.reassemblyOverlaps += 1
      case .memory: counters.reassemblyDroppedMemory += 1
      case .badFragment, .discarded, .tooLarge, .empty: counters.reassemblyBadFragments += 1
      }
      return .consumed
    case .complete(let buffer):
      counters.packetsReassembled += 1
      return buffer.withBytes { bytes -> IPv6Input in
        guard let whole = try? IPv6Packet(checking: bytes) else { return .consumed }
        let verdict = walker.walk(
          whole.bytes, from: .start(nextHeader: whole.nextHeader),
          destinationIsMulticast: whole.destination.isMulticast)
        if case .fragment = verdict {
          // A fragment inside a fragment: nothing sends that.
          counters.reassemblyBadFragments += 1
          return .consumed
        }
        switch follow(verdict, packet: whole, linkMulticast: linkMulticast, now: now) {
        case .local(let delivery): return .reassembled(delivery, buffer)
        case let other: return other
        }
      }
    }
  }

  /// The upper layer at `offset`: ICMPv6 here, a served transport to the caller, anything
  /// else refused with parameter problem code 1 (RFC 8200 §4).
  private mutating func upperLayer(
    _ nextHeader: IPv6NextHeader, at offset: Int, nextHeaderField: Int,
    packet: borrowing IPv6Packet, linkMulticast: Bool, now: Instant
  ) -> IPv6Input {
    if !isForUs(packet.destination) {
      // Only a relayed packet gets here for another address (``relaysOtherDestinations``).
      return relayedUpperLayer(
        nextHeader, at: offset, nextHeaderField: nextHeaderField, packet: packet,
        linkMulticast: linkMulticast)
    }
    if nextHeader == .icmpv6 {
      return receiveICMPv6(at: offset, packet: packet, linkMulticast: linkMulticast, now: now)
    }
    guard configuration.deliveredProtocols.contains(nextHeader) else {
      counters.droppedUnknownNextHeader += 1
      sendParameterProblem(
        .unrecognizedNextHeader, pointer: nextHeaderField, about: packet.bytes,
        linkMulticast: linkMulticast, now: now)
      return .consumed
    }
    counters.packetsDelivered += 1
    return .local(
      IPv6Delivery(
        source: packet.source, destination: packet.destination, nextHeader: nextHeader,
        payloadOffset: offset, payloadLength: packet.bytes.count - offset,
        hopLimit: packet.hopLimit, trafficClass: packet.trafficClass,
        linkMulticast: linkMulticast, nextHeaderFieldOffset: nextHeaderField))
  }

  private mutating func count(_ reason: IPv6ChainDropReason) {
    switch reason {
    case .truncated: counters.droppedTruncatedExtensionHeader += 1
    case .badOption, .tooManyOptions: counters.droppedBadOptions += 1
    case .unrecognizedOption: counters.droppedUnrecognizedOption += 1
    case .tooManyHeaders, .chainTooLong: counters.droppedExtensionChainTooLong += 1
    case .hopByHopNotFirst: counters.droppedHopByHopNotFirst += 1
    case .routingHeader: counters.droppedRoutingHeader += 1
    }
  }
}
