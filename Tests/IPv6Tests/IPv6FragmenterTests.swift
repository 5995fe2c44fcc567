import IPv6
import NetCore
import Testing

/// Cutting what we send (RFC 8200 §4.5) the way Linux does, and back again.
struct IPv6FragmenterTests {
  @Test func cutsLikeLinux() throws {
    // The captured 4008-byte echo request went out at MTU 1500 as 1448 + 1448 + 1112.
    var random = PseudoRandomGenerator(seed: 3)
    let payload = randomBytes(4008, &random)
    let header = IPv6Header(
      source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .icmpv6,
      payloadLength: payload.count)
    let fragments = IPv6Fragmenter.fragments(
      of: payload.span, header: header, identification: 0xf15f_f1be, mtu: 1500, headroom: 14)
    #expect(fragments.map(\.count) == [1496, 1496, 1160])
    #expect(fragments.allSatisfy { $0.headroom == 14 })
    // The same fixed and fragment headers as Linux's (but the flow label, Linux's own).
    let first = fragments[0].withBytes { $0.copyToArray() }
    #expect(Array(first[4..<48]) == Array(LinuxCaptures.fragmentedEchoRequest0[4..<48]))
    let last = fragments[2].withBytes { $0.copyToArray() }
    #expect(Array(last[4..<48]) == Array(LinuxCaptures.fragmentedEchoRequest2[4..<48]))

    var reassembler = IPv6Reassembler()
    var whole: [UInt8]? = nil
    for fragment in fragments.reversed() {
      let bytes = fragment.withBytes { $0.copyToArray() }
      let packet = try IPv6Packet(checking: bytes.span)
      guard
        case .fragment(let fragmentHeader, let offset, let field, _) = IPv6ExtensionHeaderWalker()
          .walk(
            packet.bytes, from: .start(nextHeader: packet.nextHeader), destinationIsMulticast: false
          )
      else {
        Issue.record("not a fragment")
        return
      }
      if case .complete(let buffer) = reassembler.add(
        packet.bytes, header: fragmentHeader, fragmentHeaderOffset: offset,
        nextHeaderFieldOffset: field, now: .zero)
      {
        whole = buffer.withBytes { $0.copyToArray() }
      }
    }
    #expect(whole.map { Array($0[40...]) } == payload)
  }

  @Test(arguments: [1280, 1281, 1500, 9000])
  func everyFragmentFitsTheMTU(mtu: Int) {
    var random = PseudoRandomGenerator(seed: UInt64(mtu))
    let payload = randomBytes(20000, &random)
    let header = IPv6Header(
      source: LinuxCaptures.globalA, destination: LinuxCaptures.globalB, nextHeader: .udp,
      payloadLength: payload.count)
    let fragments = IPv6Fragmenter.fragments(
      of: payload.span, header: header, identification: 1, mtu: mtu, headroom: 0)
    #expect(fragments.allSatisfy { $0.count <= mtu })
    #expect(fragments.dropLast().allSatisfy { ($0.count - 48) % 8 == 0 })
    #expect(fragments.reduce(0) { $0 + $1.count - 48 } == payload.count)
  }
}
