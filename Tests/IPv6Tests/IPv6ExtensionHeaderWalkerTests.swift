import IPv6
import NetCore
import Testing

/// Walking extension headers (RFC 8200 §4): the order rules, the option actions of §4.2,
/// routing headers (RFC 5095), fragments, and the bounds.
struct IPv6ExtensionHeaderWalkerTests {
  let walker = IPv6ExtensionHeaderWalker()
  let source = LinuxCaptures.globalA
  let destination = LinuxCaptures.globalB

  /// A packet of `headers` (each: next header, then the header's bytes without its first
  /// byte) followed by `upper` bytes of `last`.
  func packet(
    first: IPv6NextHeader, headers: [[UInt8]], upper: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0],
    to: IPv6Address? = nil
  ) -> [UInt8] {
    ipv6Packet(
      IPv6Header(
        source: source, destination: to ?? destination, nextHeader: first, payloadLength: 0),
      payload: headers.flatMap { $0 } + upper)
  }

  func walk(_ bytes: [UInt8], multicast: Bool = false) -> IPv6HeaderChainVerdict {
    let view = try! IPv6Packet(checking: bytes.span)
    return walker.walk(
      view.bytes, from: .start(nextHeader: view.nextHeader), destinationIsMulticast: multicast)
  }

  /// An options header (hop-by-hop or destination) naming `next`, holding `options`, padded
  /// to a multiple of 8 with PadN/Pad1.
  func optionsHeader(next: IPv6NextHeader, _ options: [UInt8]) -> [UInt8] {
    var body = options
    let padding = (8 - (2 + body.count) % 8) % 8
    if padding == 1 {
      body.append(0)
    } else if padding > 1 {
      body += [1, UInt8(padding - 2)] + [UInt8](repeating: 0, count: padding - 2)
    }
    return [next.rawValue, UInt8((2 + body.count) / 8 - 1)] + body
  }

  @Test func noExtensionHeaders() {
    #expect(
      walk(LinuxCaptures.echoRequest)
        == .upperLayer(.icmpv6, offset: 40, nextHeaderFieldOffset: 6))
  }

  @Test func capturedMLDReportHasARouterAlert() {
    // Linux's hop-by-hop header: router alert (type 5, MLD) and PadN.
    #expect(Array(LinuxCaptures.reportFromLinkLocal[40..<48]) == [0x3a, 0, 5, 2, 0, 0, 1, 0])
    #expect(
      walk(LinuxCaptures.reportFromLinkLocal, multicast: true)
        == .upperLayer(.icmpv6, offset: 48, nextHeaderFieldOffset: 40))
  }

  @Test func hopByHopOnlyFirst() {
    let bytes = packet(
      first: .destinationOptions,
      headers: [
        optionsHeader(next: .hopByHopOptions, []), optionsHeader(next: .udp, []),
      ])
    #expect(
      walk(bytes) == .parameterProblem(.unrecognizedNextHeader, pointer: 40, .hopByHopNotFirst))
  }

  @Test func optionActions() {
    func verdict(type: UInt8, multicast: Bool) -> IPv6HeaderChainVerdict {
      let bytes = packet(
        first: .destinationOptions, headers: [optionsHeader(next: .udp, [type, 2, 0xaa, 0xbb])],
        to: multicast ? IPv6Address.allNodes : nil)
      return walk(bytes, multicast: multicast)
    }
    // 00: skip. 01: discard. 10: discard and report, even to a group. 11: report unless group.
    #expect(
      verdict(type: 0x1e, multicast: false)
        == .upperLayer(.udp, offset: 48, nextHeaderFieldOffset: 40))
    #expect(verdict(type: 0x5e, multicast: false) == .discard(.unrecognizedOption))
    #expect(verdict(type: 0x5e, multicast: true) == .discard(.unrecognizedOption))
    #expect(
      verdict(type: 0x9e, multicast: false)
        == .parameterProblem(.unrecognizedOption, pointer: 42, .unrecognizedOption))
    #expect(
      verdict(type: 0x9e, multicast: true)
        == .parameterProblem(.unrecognizedOption, pointer: 42, .unrecognizedOption))
    #expect(
      verdict(type: 0xde, multicast: false)
        == .parameterProblem(.unrecognizedOption, pointer: 42, .unrecognizedOption))
    #expect(verdict(type: 0xde, multicast: true) == .discard(.unrecognizedOption))
    // The jumbo payload option (0xC2): not supported, reported.
    #expect(
      verdict(type: 0xc2, multicast: false)
        == .parameterProblem(.unrecognizedOption, pointer: 42, .unrecognizedOption))
  }

  @Test func paddingRules() {
    // Eight bytes of padding in a row: Linux (RFC 4942) refuses more than seven.
    let longPad = packet(
      first: .hopByHopOptions, headers: [[17, 1, 1, 10] + [UInt8](repeating: 0, count: 10)])
    #expect(walk(longPad) == .discard(.badOption))
    // PadN with data that is not zero.
    let dirtyPad = packet(first: .hopByHopOptions, headers: [[17, 0, 1, 4, 0, 0, 9, 0]])
    #expect(walk(dirtyPad) == .discard(.badOption))
    // Six Pad1s: fine.
    let pad1 = packet(first: .hopByHopOptions, headers: [[17, 0, 0, 0, 0, 0, 0, 0]])
    #expect(walk(pad1) == .upperLayer(.udp, offset: 48, nextHeaderFieldOffset: 40))
  }

  @Test func optionLengthPastTheHeader() {
    let bytes = packet(first: .hopByHopOptions, headers: [[17, 0, 0x1e, 5, 0, 0, 0, 0]])
    #expect(walk(bytes) == .discard(.badOption))
    // A type byte at the very end with no room for its length.
    let cut = packet(first: .hopByHopOptions, headers: [[17, 0, 1, 3, 0, 0, 0, 0x1e]])
    #expect(walk(cut) == .discard(.badOption))
  }

  @Test func tooManyOptions() {
    let nine = [UInt8]((0..<9).flatMap { _ in [UInt8(0x1e), 0] })
    let bytes = packet(first: .destinationOptions, headers: [optionsHeader(next: .udp, nine)])
    #expect(walk(bytes) == .discard(.tooManyOptions))
    let eight = [UInt8]((0..<8).flatMap { _ in [UInt8(0x1e), 0] })
    let fine = packet(first: .destinationOptions, headers: [optionsHeader(next: .udp, eight)])
    if case .upperLayer(.udp, _, _) = walk(fine) {} else { Issue.record("eight options refused") }
  }

  @Test func routingHeaders() {
    // Type 0 with segments left: parameter problem pointing at the routing type (RFC 5095).
    let type0 = packet(
      first: .routing, headers: [[17, 2, 0, 1, 0, 0, 0, 0] + IPv6Address.loopback.octets])
    #expect(walk(type0) == .parameterProblem(.erroneousHeaderField, pointer: 42, .routingHeader))
    // Any type with segments left: the same (a host routes nothing).
    let type4 = packet(first: .routing, headers: [[17, 0, 4, 3, 0, 0, 0, 0]])
    #expect(walk(type4) == .parameterProblem(.erroneousHeaderField, pointer: 42, .routingHeader))
    // Segments left 0: ignored, whatever the type.
    let done = packet(
      first: .routing, headers: [[17, 2, 0, 0, 0, 0, 0, 0] + IPv6Address.loopback.octets])
    #expect(walk(done) == .upperLayer(.udp, offset: 64, nextHeaderFieldOffset: 40))
  }

  @Test func fragmentHeaderEndsTheWalk() {
    let bytes = packet(
      first: .destinationOptions,
      headers: [optionsHeader(next: .fragment, []), [17, 0, 0x05, 0x41, 0xde, 0xad, 0xbe, 0xef]])
    let expected = IPv6FragmentHeader(
      nextHeader: .udp, fragmentOffset: 0x0540, moreFragments: true, identification: 0xdead_beef)
    #expect(
      walk(bytes) == .fragment(expected, offset: 48, nextHeaderFieldOffset: 40, headersSeen: 2))
    // Captured: the first fragment of a 4000-byte ping.
    let first = walk(LinuxCaptures.fragmentedEchoRequest0)
    #expect(
      first
        == .fragment(
          IPv6FragmentHeader(
            nextHeader: .icmpv6, fragmentOffset: 0, moreFragments: true,
            identification: 0xf15f_f1be), offset: 40, nextHeaderFieldOffset: 6, headersSeen: 1))
  }

  @Test func noNextHeader() {
    let bytes = packet(
      first: .destinationOptions, headers: [optionsHeader(next: .noNextHeader, [])], upper: [])
    #expect(walk(bytes) == .noNextHeader)
  }

  @Test func truncatedHeaders() {
    // Header length 2 (24 bytes) with only 8 there.
    let bytes = packet(first: .hopByHopOptions, headers: [[17, 2, 1, 4, 0, 0, 0, 0]], upper: [])
    #expect(walk(bytes) == .discard(.truncated))
    // A fragment header of 4 bytes.
    let fragment = packet(first: .fragment, headers: [[17, 0, 0, 1]], upper: [])
    #expect(walk(fragment) == .discard(.truncated))
    // Nothing after the fixed header although one is named.
    let nothing = packet(first: .routing, headers: [], upper: [])
    #expect(walk(nothing) == .discard(.truncated))
  }

  @Test func chainBounds() {
    var headers: [[UInt8]] = []
    for _ in 0..<9 { headers.append(optionsHeader(next: .destinationOptions, [])) }
    headers[8][0] = IPv6NextHeader.udp.rawValue
    #expect(walk(packet(first: .destinationOptions, headers: headers)) == .discard(.tooManyHeaders))
    // One destination options header of 2048 bytes: past the 1024 bytes of chain.
    let big = [UInt8(17), 255] + [1, 252] + [UInt8](repeating: 0, count: 2044)
    let bytes = packet(first: .destinationOptions, headers: [big])
    // (its padding is too long anyway; the length bound is checked first)
    #expect(walk(bytes) == .discard(.chainTooLong))
  }

  @Test func upperLayerByLengthsAlone() throws {
    let view = try IPv6Packet(checking: LinuxCaptures.reportFromLinkLocal.span)
    let found = walker.upperLayer(view.bytes, from: .start(nextHeader: view.nextHeader))
    #expect(found?.nextHeader == .icmpv6 && found?.offset == 48)
    // Through a fragment header once.
    let first = try IPv6Packet(checking: LinuxCaptures.fragmentedEchoRequest0.span)
    let afterFragment = walker.upperLayer(first.bytes, from: .start(nextHeader: first.nextHeader))
    #expect(afterFragment?.nextHeader == .icmpv6 && afterFragment?.offset == 48)
    // Two fragment headers: refused.
    let twice = packet(
      first: .fragment, headers: [[44, 0, 0, 1, 0, 0, 0, 1], [17, 0, 0, 1, 0, 0, 0, 1]])
    let view2 = try IPv6Packet(checking: twice.span)
    #expect(walker.upperLayer(view2.bytes, from: .start(nextHeader: .fragment)) == nil)
  }

  @Test func wholeHeaderChainInAFirstFragment() throws {
    let first = try IPv6Packet(checking: LinuxCaptures.fragmentedEchoRequest0.span)
    let after = IPv6ExtensionHeaderWalker.Position(
      offset: 48, nextHeader: .icmpv6, nextHeaderFieldOffset: 40, headersSeen: 1)
    let whole = walker.holdsWholeHeaderChain(first.bytes, from: after)
    #expect(whole)
    // A first fragment carrying only 4 bytes of a TCP header (RFC 7112's case).
    let tcp = packet(first: .fragment, headers: [[6, 0, 0, 1, 0, 0, 0, 1]], upper: [1, 2, 3, 4])
    let view = try IPv6Packet(checking: tcp.span)
    let tcpAfter = IPv6ExtensionHeaderWalker.Position(
      offset: 48, nextHeader: .tcp, nextHeaderFieldOffset: 40, headersSeen: 1)
    let tcpWhole = walker.holdsWholeHeaderChain(view.bytes, from: tcpAfter)
    #expect(!tcpWhole)
    // A destination options header cut by the fragment's end.
    let cut = packet(first: .fragment, headers: [[60, 0, 0, 1, 0, 0, 0, 1]], upper: [17, 3, 1, 2])
    let cutView = try IPv6Packet(checking: cut.span)
    let cutAfter = IPv6ExtensionHeaderWalker.Position(
      offset: 48, nextHeader: .destinationOptions, nextHeaderFieldOffset: 40, headersSeen: 1)
    let cutWhole = walker.holdsWholeHeaderChain(cutView.bytes, from: cutAfter)
    #expect(!cutWhole)
  }
}
