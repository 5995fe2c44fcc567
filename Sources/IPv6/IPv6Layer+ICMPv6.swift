import NetCore

extension IPv6Layer {
  /// The most bytes of an offending packet an error quotes: the error stays within the
  /// minimum MTU (RFC 4443 §2.4 c).
  static var maximumQuote: Int {
    IPv6Header.minimumMTU - IPv6Header.length - ICMPv6Header.length
  }

  /// Handles the ICMPv6 message at `offset` of `packet`.
  mutating func receiveICMPv6(
    at offset: Int, packet: borrowing IPv6Packet, linkMulticast: Bool, now: Instant
  ) -> IPv6Input {
    icmpCounters.messagesReceived += 1
    let message: ICMPv6Packet
    do {
      message = try ICMPv6Packet(
        checking: packet.bytes.extracting(droppingFirst: offset), source: packet.source,
        destination: packet.destination)
    } catch .badChecksum {
      icmpCounters.droppedBadChecksum += 1
      return .consumed
    } catch {
      icmpCounters.droppedTruncated += 1
      return .consumed
    }
    let context = NDPContext(
      source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit)
    switch message.type {
    case .echoRequest:
      receiveEchoRequest(message, packet: packet, now: now)
    case .echoReply:
      let header = message.header
      let reply = ICMPv6EchoReply(
        source: packet.source, identifier: header.identifier, sequence: header.sequence,
        payloadLength: message.body.count, receivedAt: now)
      if echoReplies.append(reply) {
        icmpCounters.echoRepliesReceived += 1
      } else {
        icmpCounters.droppedUnclaimedReplies += 1
      }
    case .destinationUnreachable, .packetTooBig, .timeExceeded, .parameterProblem:
      return receiveError(message, reporter: packet.source, now: now)
    case .routerSolicitation:
      // RFC 4861 §6.1.1: hosts silently discard solicitations; a router answers (§6.2.6).
      receiveRouterSolicitation(message, context: context, now: now)
    case .routerAdvertisement:
      receiveRouterAdvertisement(message, context: context, now: now)
    case .neighbourSolicitation:
      receiveNeighbourSolicitation(message, context: context, now: now)
    case .neighbourAdvertisement:
      receiveNeighbourAdvertisement(message, context: context, now: now)
    case .redirect:
      receiveRedirect(message, context: context, now: now)
    case .multicastListenerQuery:
      do {
        let query = try MLDQueryMessage(parsing: message, source: packet.source)
        icmpCounters.mldQueriesReceived += 1
        multicast.receive(query, now: now, random: &random)
      } catch {
        icmpCounters.droppedInvalidMLD += 1
      }
    default:
      // RFC 4443 §2.4 b: unknown informational messages are discarded; other listeners'
      // MLD reports need nothing from a host.
      icmpCounters.unhandledMessages += 1
    }
    return .consumed
  }

  // MARK: Echo

  private mutating func receiveEchoRequest(
    _ message: borrowing ICMPv6Packet, packet: borrowing IPv6Packet, now: Instant
  ) {
    icmpCounters.echoRequestsReceived += 1
    let destination = packet.destination
    guard !packet.source.isUnspecified,
      !destination.isMulticast || configuration.answersMulticastEcho
    else {
      icmpCounters.droppedEchoRequests += 1
      return
    }
    // RFC 4443 §4.2: to a group, the reply comes from a unicast address of the interface.
    let source = destination.isMulticast ? sourceAddress(for: packet.source) : destination
    guard let source else {
      icmpCounters.droppedEchoRequests += 1
      return
    }
    let body = message.body
    let reply = link.makePacketBuffer(
      capacity: headroom + ICMPv6Header.length + body.count,
      headroom: headroom + ICMPv6Header.length)
    reply.append(copying: body)
    let request = message.header
    ICMPv6Header.echo(reply: true, identifier: request.identifier, sequence: request.sequence)
      .prepend(to: reply, source: source, destination: packet.source)
    let options = IPv6SendOptions(source: source, trafficClass: packet.trafficClass)
    if (try? send(reply, nextHeader: .icmpv6, to: packet.source, options: options, now: now))
      != nil
    {
      icmpCounters.echoRepliesSent += 1
    }
  }

  /// Sends an echo request (what `ping -6` sends) with `payload` as its data.
  public mutating func sendEchoRequest(
    to destination: IPv6Address, identifier: UInt16, sequence: UInt16, payload: Span<UInt8>,
    now: Instant
  ) throws(IPv6SendError) {
    guard let source = sourceAddress(for: destination) else {
      counters.sendNoSourceAddress += 1
      throw .noSourceAddress
    }
    let request = link.makePacketBuffer(
      capacity: headroom + ICMPv6Header.length + payload.count,
      headroom: headroom + ICMPv6Header.length)
    request.append(copying: payload)
    ICMPv6Header.echo(reply: false, identifier: identifier, sequence: sequence)
      .prepend(to: request, source: source, destination: destination)
    try send(
      request, nextHeader: .icmpv6, to: destination, options: IPv6SendOptions(source: source),
      now: now)
    icmpCounters.echoRequestsSent += 1
  }

  // MARK: Errors received

  /// An error about a packet we sent: packet too big lowers the path MTU; each is handed to
  /// the transports when it quotes one of theirs.
  private mutating func receiveError(
    _ message: borrowing ICMPv6Packet, reporter: IPv6Address, now: Instant
  ) -> IPv6Input {
    icmpCounters.errorsReceived += 1
    let quote = message.body
    guard quote.count >= IPv6Header.length, quote[0] >> 4 == 6 else {
      icmpCounters.droppedUnmatchedErrors += 1
      return .consumed
    }
    let quotedSource = IPv6Address(quote, at: IPv6Packet.Field.source)
    let quotedDestination = IPv6Address(quote, at: IPv6Packet.Field.destination)
    // Only errors about our own packets count (RFC 4443 §5.2 and RFC 5927's advice).
    guard addressTable.entry(for: quotedSource) != nil else {
      icmpCounters.droppedUnmatchedErrors += 1
      return .consumed
    }
    let start = IPv6ExtensionHeaderWalker.Position.start(
      nextHeader: IPv6NextHeader(rawValue: quote[IPv6Packet.Field.nextHeader]))
    let upperLayer = walker.upperLayer(quote, from: start)
    var reportedMTU: Int? = nil
    if message.type == .packetTooBig {
      icmpCounters.packetTooBigReceived += 1
      let reported = Int(message.restOfHeader)
      guard reported >= IPv6Header.minimumMTU else {
        // RFC 8201 §4: a report below the minimum link MTU is discarded.
        icmpCounters.droppedPacketTooBigBelowMinimum += 1
        return .consumed
      }
      reportedMTU = min(reported, mtu)
      // A report about a TCP segment waits for TCP to find the segment in flight (RFC 5927
      // §4.1; ``lowerPathMTU(towards:to:now:)``), as Linux's `tcp_v6_err` does: else any
      // on-link host could shrink every path by quoting made-up segments.
      if upperLayer?.0 != .tcp {
        lowerPathMTU(towards: quotedDestination, to: reported, now: now)
      }
    }
    guard let (nextHeader, offset) = upperLayer, nextHeader != .icmpv6 else { return .consumed }
    let end = min(quote.count, offset + ICMPv6ErrorReport.quotedTransportLimit)
    return .error(
      ICMPv6ErrorReport(
        type: message.type, code: message.code, reporter: reporter, mtu: reportedMTU,
        pointer: message.type == .parameterProblem ? message.restOfHeader : nil,
        quotedSource: quotedSource, quotedDestination: quotedDestination,
        quotedNextHeader: nextHeader,
        quotedTransportHeader: offset < end ? quote.extracting(offset..<end).copyToArray() : []))
  }

  /// Records a packet too big's `mtu` (at least 1280) towards `destination` in the path MTU
  /// cache (RFC 8201 §4): packets to it are sent, fragmented if need be, to fit from now on.
  /// The layer does so itself for reports about other upper layers than TCP; a report about a
  /// TCP segment (an ``ICMPv6ErrorReport`` with an ``ICMPv6ErrorReport/mtu``) is recorded
  /// here once TCP has found the quoted segment in flight.
  public mutating func lowerPathMTU(towards destination: IPv6Address, to mtu: Int, now: Instant) {
    if pathMTUs.lower(destination, to: max(mtu, IPv6Header.minimumMTU), linkMTU: self.mtu, now: now)
    {
      icmpCounters.pathMTUsLowered += 1
    }
    icmpCounters.pathMTUEvictions = pathMTUs.evictions
  }

  // MARK: Errors sent

  /// Answers a received packet with destination unreachable (port unreachable for UDP to a
  /// closed port), unless RFC 4443 §2.4 (e) forbids an error about it or the rate limit is
  /// reached. `packet` is the whole offending packet, fixed header first.
  public mutating func sendDestinationUnreachable(
    _ code: ICMPv6UnreachableCode, about packet: Span<UInt8>, linkMulticast: Bool, now: Instant
  ) {
    sendError(
      ICMPv6Header(type: .destinationUnreachable, code: code.rawValue), about: packet,
      linkMulticast: linkMulticast, allowedForMulticast: false, now: now)
  }

  /// Sends parameter problem `code` with `pointer` about `packet` (RFC 4443 §3.4). Code 2 may
  /// answer a packet to a group (§2.4 e.3: the option's type asked for it).
  public mutating func sendParameterProblem(
    _ code: ICMPv6ParameterProblemCode, pointer: Int, about packet: Span<UInt8>,
    linkMulticast: Bool, now: Instant
  ) {
    sendError(
      ICMPv6Header(type: .parameterProblem, code: code.rawValue, restOfHeader: UInt32(pointer)),
      about: packet, linkMulticast: linkMulticast,
      allowedForMulticast: code == .unrecognizedOption, now: now)
  }

  /// Sends the error `header` quoting `packet` to its source, if RFC 4443 §2.4 (e) allows and
  /// the rate limit has a token.
  mutating func sendError(
    _ header: ICMPv6Header, about packet: Span<UInt8>, linkMulticast: Bool,
    allowedForMulticast: Bool, now: Instant
  ) {
    guard packet.count >= IPv6Header.length else { return }
    let offendingSource = IPv6Address(packet, at: IPv6Packet.Field.source)
    let offendingDestination = IPv6Address(packet, at: IPv6Packet.Field.destination)
    // (e.6): a source that names no single node; (e.3–e.5): a group, unless allowed.
    if !offendingSource.isUnicast || offendingSource.isIPv4Mapped
      || ((offendingDestination.isMulticast || linkMulticast) && !allowedForMulticast)
      || isAboutAnError(packet)
    {
      icmpCounters.errorsSuppressed += 1
      return
    }
    let source =
      addressTable.isAssigned(offendingDestination)
      ? offendingDestination : sourceAddress(for: offendingSource)
    guard let source else { return }
    guard errorLimiter.allow(now: now) else {
      icmpCounters.errorsRateLimited += 1
      return
    }
    let quoted = min(packet.count, IPv6Layer.maximumQuote)
    let message = link.makePacketBuffer(
      capacity: headroom + ICMPv6Header.length + quoted, headroom: headroom + ICMPv6Header.length)
    message.append(copying: packet.extracting(0..<quoted))
    header.prepend(to: message, source: source, destination: offendingSource)
    if (try? send(
      message, nextHeader: .icmpv6, to: offendingSource, options: IPv6SendOptions(source: source),
      now: now)) != nil
    {
      icmpCounters.errorsSent += 1
    }
  }

  /// Whether `packet` carries an ICMPv6 error or a redirect, which no error may answer
  /// (RFC 4443 §2.4 e.1, e.2).
  private func isAboutAnError(_ packet: Span<UInt8>) -> Bool {
    let start = IPv6ExtensionHeaderWalker.Position.start(
      nextHeader: IPv6NextHeader(rawValue: packet[IPv6Packet.Field.nextHeader]))
    guard let (nextHeader, offset) = walker.upperLayer(packet, from: start),
      nextHeader == .icmpv6
    else { return false }
    guard offset < packet.count else { return true }
    let type = ICMPv6Type(rawValue: packet[offset])
    return type.isError || type == .redirect
  }
}
