import IPv6
import NetCore
import Testing

/// Neighbour discovery messages (RFC 4861 §4) from captures, their options, and every
/// validation rule of §6.1.1, §6.1.2, §7.1.1, §7.1.2 and §8.1.
struct NDPMessageTests {
  /// The message and context of a captured packet.
  func parse<Message>(
    _ capture: [UInt8],
    _ body: (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) -> Message
  ) throws(NDPValidationError) -> Message {
    let packet = try! IPv6Packet(checking: capture.span)
    let message = try! ICMPv6Packet(
      checking: packet.payload, source: packet.source, destination: packet.destination)
    return try body(
      message,
      NDPContext(source: packet.source, destination: packet.destination, hopLimit: packet.hopLimit))
  }

  /// The validation error for a message built from `header` and `body` between the given
  /// addresses, or nil when it is valid.
  func error<Message>(
    _ header: ICMPv6Header, body: [UInt8], source: IPv6Address, destination: IPv6Address,
    hopLimit: UInt8 = 255,
    _ parser: (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) -> Message
  ) -> NDPValidationError? {
    let bytes = icmpv6Message(header, body: body, source: source, destination: destination)
    let message = try! ICMPv6Packet(checking: bytes.span, source: source, destination: destination)
    do {
      _ = try parser(
        message, NDPContext(source: source, destination: destination, hopLimit: hopLimit))
      return nil
    } catch { return error }
  }

  // MARK: Captured messages

  @Test func routerAdvertisement() throws {
    let advertisement = try parse(LinuxCaptures.routerAdvertisement) {
      m, c throws(NDPValidationError) in
      try RouterAdvertisementMessage(parsing: m, context: c)
    }
    #expect(advertisement.currentHopLimit == 64)
    #expect(advertisement.routerLifetime == 12)
    #expect(advertisement.reachableTime == 0 && advertisement.retransmitTimer == 0)
    #expect(!advertisement.managedAddressConfiguration && !advertisement.otherConfiguration)
    let options = advertisement.options
    #expect(options.sourceLinkLayerAddress == LinuxCaptures.macR)
    #expect(options.mtu == 1500)
    #expect(
      options.prefixes == [
        NDPPrefixInformation(
          prefix: LinuxCaptures.prefix, prefixLength: 64, onLink: true, autonomous: true,
          validLifetime: 86400, preferredLifetime: 14400)
      ])
    #expect(
      options.recursiveDNSServers == [
        NDPRecursiveDNSServers(
          lifetime: 600, servers: [IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 0x53)])
      ])
    // Written again (in our option order, not radvd's) and parsed back: the same message.
    let rewritten = icmpv6Message(
      advertisement.icmpHeader, body: advertisement.body, source: LinuxCaptures.linkLocalR,
      destination: .allNodes)
    let reparsed = try! ICMPv6Packet(
      checking: rewritten.span, source: LinuxCaptures.linkLocalR, destination: .allNodes)
    let again = try RouterAdvertisementMessage(
      parsing: reparsed,
      context: NDPContext(source: LinuxCaptures.linkLocalR, destination: .allNodes, hopLimit: 255))
    #expect(again == advertisement)
  }

  @Test func finalRouterAdvertisementHasLifetimeZero() throws {
    let advertisement = try parse(LinuxCaptures.finalRouterAdvertisement) {
      m, c throws(NDPValidationError) in
      try RouterAdvertisementMessage(parsing: m, context: c)
    }
    #expect(advertisement.routerLifetime == 0)
  }

  @Test func routerSolicitation() throws {
    let solicitation = try parse(LinuxCaptures.routerSolicitation) {
      m, c throws(NDPValidationError) in
      try RouterSolicitationMessage(parsing: m, context: c)
    }
    #expect(solicitation.options.sourceLinkLayerAddress == LinuxCaptures.macA)
    // Ours, from A's addresses, is Linux's byte for byte.
    let written = icmpv6Message(
      solicitation.icmpHeader, body: solicitation.body, source: LinuxCaptures.linkLocalA,
      destination: .allRouters)
    #expect(written == icmpv6Bytes(of: LinuxCaptures.routerSolicitation))
  }

  @Test func neighbourSolicitations() throws {
    let resolution = try parse(LinuxCaptures.neighbourSolicitation) {
      m, c throws(NDPValidationError) in
      try NeighbourSolicitationMessage(parsing: m, context: c)
    }
    #expect(resolution.target == LinuxCaptures.globalB)
    #expect(resolution.options.sourceLinkLayerAddress == LinuxCaptures.macA)
    let written = icmpv6Message(
      resolution.icmpHeader, body: resolution.body, source: LinuxCaptures.globalA,
      destination: LinuxCaptures.globalB.solicitedNodeMulticast)
    #expect(written == icmpv6Bytes(of: LinuxCaptures.neighbourSolicitation))

    let detection = try parse(LinuxCaptures.detectionSolicitation) {
      m, c throws(NDPValidationError) in
      try NeighbourSolicitationMessage(parsing: m, context: c)
    }
    #expect(detection.target == LinuxCaptures.linkLocalA)
    #expect(detection.options.sourceLinkLayerAddress == nil)
    #expect(detection.options.nonce?.count == 6)
    let detectionWritten = icmpv6Message(
      detection.icmpHeader, body: detection.body, source: .unspecified,
      destination: LinuxCaptures.linkLocalA.solicitedNodeMulticast)
    #expect(detectionWritten == icmpv6Bytes(of: LinuxCaptures.detectionSolicitation))

    let probe = try parse(LinuxCaptures.unicastProbe) { m, c throws(NDPValidationError) in
      try NeighbourSolicitationMessage(parsing: m, context: c)
    }
    #expect(probe.options.sourceLinkLayerAddress == LinuxCaptures.macA)
  }

  @Test func neighbourAdvertisements() throws {
    let answer = try parse(LinuxCaptures.neighbourAdvertisement) {
      m, c throws(NDPValidationError) in
      try NeighbourAdvertisementMessage(parsing: m, context: c)
    }
    #expect(answer.solicited && answer.override && !answer.router)
    #expect(answer.target == LinuxCaptures.globalB)
    #expect(answer.options.targetLinkLayerAddress == LinuxCaptures.macB)
    let written = icmpv6Message(
      answer.icmpHeader, body: answer.body, source: LinuxCaptures.globalB,
      destination: LinuxCaptures.globalA)
    #expect(written == icmpv6Bytes(of: LinuxCaptures.neighbourAdvertisement))

    let unsolicited = try parse(LinuxCaptures.unsolicitedAdvertisement) {
      m, c throws(NDPValidationError) in
      try NeighbourAdvertisementMessage(parsing: m, context: c)
    }
    #expect(!unsolicited.solicited && unsolicited.override)
    let probeAnswer = try parse(LinuxCaptures.probeAnswer) { m, c throws(NDPValidationError) in
      try NeighbourAdvertisementMessage(parsing: m, context: c)
    }
    #expect(probeAnswer.solicited && !probeAnswer.override)
    #expect(probeAnswer.options.targetLinkLayerAddress == nil)
    let router = try parse(LinuxCaptures.routerNeighbourAdvertisement) {
      m, c throws(NDPValidationError) in
      try NeighbourAdvertisementMessage(parsing: m, context: c)
    }
    #expect(router.router && router.solicited)
  }

  @Test func redirect() throws {
    let redirect = try parse(LinuxCaptures.redirect) { m, c throws(NDPValidationError) in
      try RedirectMessage(parsing: m, context: c)
    }
    #expect(redirect.target == LinuxCaptures.linkLocalB)
    #expect(redirect.destination == IPv6Address(0xfd00, 0x99, 0, 0, 0, 0, 0, 2))
    #expect(redirect.options.targetLinkLayerAddress == LinuxCaptures.macB)
    #expect(redirect.options.hasRedirectedHeader)
  }

  // MARK: Validation rules

  @Test func commonRules() {
    let body = LinuxCaptures.globalB.octets
    let header = ICMPv6Header(type: .neighbourSolicitation, code: 0)
    let parser:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) ->
        NeighbourSolicitationMessage = {
          m, c throws(NDPValidationError) in
          try NeighbourSolicitationMessage(parsing: m, context: c)
        }
    let source = LinuxCaptures.globalA
    let group = LinuxCaptures.globalB.solicitedNodeMulticast
    #expect(error(header, body: body, source: source, destination: group, parser) == nil)
    // Hop limit 255 only (§7.1.1): 254 may have crossed a router.
    #expect(
      error(header, body: body, source: source, destination: group, hopLimit: 254, parser)
        == .hopLimit)
    #expect(
      error(
        ICMPv6Header(type: .neighbourSolicitation, code: 1), body: body, source: source,
        destination: group, parser)
        == .code)
    #expect(
      error(header, body: Array(body[..<15]), source: source, destination: group, parser)
        == .truncated)
    // Options of length zero, past the end, and an Ethernet address option of two units.
    #expect(
      error(
        header, body: body + [1, 0, 0, 0, 0, 0, 0, 0], source: source, destination: group, parser)
        == .zeroLengthOption)
    #expect(
      error(
        header, body: body + [1, 2, 0, 0, 0, 0, 0, 0], source: source, destination: group, parser)
        == .truncatedOption)
    #expect(
      error(header, body: body + [1], source: source, destination: group, parser)
        == .truncatedOption)
    #expect(
      error(
        header, body: body + [1, 2] + [UInt8](repeating: 0, count: 14), source: source,
        destination: group, parser)
        == .badLinkLayerAddressOption)
    // Unknown options are skipped.
    #expect(
      error(
        header, body: body + [99, 1, 0, 0, 0, 0, 0, 0], source: source, destination: group, parser)
        == nil)
  }

  @Test func solicitationRules() {
    let header = ICMPv6Header(type: .neighbourSolicitation, code: 0)
    let parser:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) ->
        NeighbourSolicitationMessage = {
          m, c throws(NDPValidationError) in
          try NeighbourSolicitationMessage(parsing: m, context: c)
        }
    let target = LinuxCaptures.globalB
    let slla: [UInt8] = [1, 1, 2, 0, 0, 0, 0, 0x0a]
    // A multicast target.
    #expect(
      error(
        header, body: IPv6Address.allNodes.octets, source: LinuxCaptures.globalA,
        destination: target, parser)
        == .target)
    // From the unspecified address: only to a solicited-node group, and without SLLA.
    #expect(
      error(header, body: target.octets, source: .unspecified, destination: target, parser)
        == .destination)
    #expect(
      error(
        header, body: target.octets + slla, source: .unspecified,
        destination: target.solicitedNodeMulticast, parser)
        == .source)
    #expect(
      error(
        header, body: target.octets, source: .unspecified,
        destination: target.solicitedNodeMulticast, parser)
        == nil)
  }

  @Test func advertisementRules() {
    let parser:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) ->
        NeighbourAdvertisementMessage = {
          m, c throws(NDPValidationError) in
          try NeighbourAdvertisementMessage(parsing: m, context: c)
        }
    let solicitedFlag = ICMPv6Header(
      type: .neighbourAdvertisement, code: 0, restOfHeader: 0x4000_0000)
    let target = LinuxCaptures.globalB
    // Solicited to a group (§7.1.2).
    #expect(
      error(solicitedFlag, body: target.octets, source: target, destination: .allNodes, parser)
        == .solicitedFlag)
    #expect(
      error(
        solicitedFlag, body: target.octets, source: target, destination: LinuxCaptures.globalA,
        parser) == nil)
    #expect(
      error(
        ICMPv6Header(type: .neighbourAdvertisement, code: 0), body: IPv6Address.allRouters.octets,
        source: target, destination: .allNodes, parser) == .target)
    #expect(
      error(
        ICMPv6Header(type: .neighbourAdvertisement, code: 0), body: Array(target.octets[..<12]),
        source: target, destination: .allNodes, parser) == .truncated)
  }

  @Test func routerMessageRules() {
    let ra:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) -> RouterAdvertisementMessage =
        {
          m, c throws(NDPValidationError) in try RouterAdvertisementMessage(parsing: m, context: c)
        }
    let raHeader = ICMPv6Header(type: .routerAdvertisement, code: 0, restOfHeader: 0x4000_0708)
    let timers = [UInt8](repeating: 0, count: 8)
    // Only from a link-local address (§6.1.2).
    #expect(
      error(raHeader, body: timers, source: LinuxCaptures.globalR, destination: .allNodes, ra)
        == .source)
    #expect(
      error(raHeader, body: timers, source: LinuxCaptures.linkLocalR, destination: .allNodes, ra)
        == nil)
    #expect(
      error(
        raHeader, body: Array(timers[..<7]), source: LinuxCaptures.linkLocalR,
        destination: .allNodes, ra) == .truncated)
    let rs:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) -> RouterSolicitationMessage =
        {
          m, c throws(NDPValidationError) in try RouterSolicitationMessage(parsing: m, context: c)
        }
    // A solicitation from the unspecified address with SLLA (§6.1.1).
    #expect(
      error(
        ICMPv6Header(type: .routerSolicitation, code: 0), body: [1, 1, 2, 0, 0, 0, 0, 0x0a],
        source: .unspecified, destination: .allRouters, rs) == .source)
    let redirect:
      (borrowing ICMPv6Packet, NDPContext) throws(NDPValidationError) -> RedirectMessage = {
        m, c throws(NDPValidationError) in try RedirectMessage(parsing: m, context: c)
      }
    let rHeader = ICMPv6Header(type: .redirect, code: 0)
    let far = IPv6Address(0xfd00, 0x99, 0, 0, 0, 0, 0, 2)
    // A target that is neither link-local nor the destination; a multicast destination.
    #expect(
      error(
        rHeader, body: LinuxCaptures.globalB.octets + far.octets, source: LinuxCaptures.linkLocalR,
        destination: LinuxCaptures.globalA, redirect)
        == .target)
    #expect(
      error(
        rHeader, body: far.octets + far.octets, source: LinuxCaptures.linkLocalR,
        destination: LinuxCaptures.globalA, redirect)
        == nil)
    #expect(
      error(
        rHeader, body: LinuxCaptures.linkLocalB.octets + IPv6Address.allNodes.octets,
        source: LinuxCaptures.linkLocalR, destination: LinuxCaptures.globalA, redirect)
        == .destination)
    #expect(
      error(
        rHeader, body: far.octets + far.octets, source: LinuxCaptures.globalR,
        destination: LinuxCaptures.globalA, redirect)
        == .source)
  }

  @Test func optionsRoundTripAndIgnoredOptions() throws {
    let options = NDPOptions(
      sourceLinkLayerAddress: LinuxCaptures.macA, targetLinkLayerAddress: LinuxCaptures.macB,
      mtu: 1400,
      prefixes: [
        NDPPrefixInformation(
          prefix: LinuxCaptures.prefix, prefixLength: 64, onLink: false, autonomous: true,
          validLifetime: NDPPrefixInformation.infinite, preferredLifetime: 10)
      ],
      recursiveDNSServers: [
        NDPRecursiveDNSServers(
          lifetime: 1, servers: [LinuxCaptures.globalR, LinuxCaptures.globalB])
      ],
      nonce: [1, 2, 3, 4, 5, 6])
    let bytes = options.emitted()
    #expect(bytes.count % 8 == 0)
    #expect(try NDPOptions(parsing: bytes.span) == options)
    // A prefix option of three units, an MTU option of two, an RDNSS of two: ignored.
    let odd: [UInt8] =
      [3, 3] + [UInt8](repeating: 0, count: 22) + [5, 2] + [UInt8](repeating: 0, count: 14)
      + [25, 2] + [UInt8](repeating: 0, count: 14)
    let parsed = try NDPOptions(parsing: odd.span)
    #expect(parsed.prefixes.isEmpty && parsed.mtu == nil && parsed.recursiveDNSServers.isEmpty)
    #expect(parsed.ignoredOptions == 3)
  }
}
