import Ethernet
import IPv6
import NetCore
import Testing

@testable import NetStack

/// The relay's IPv6 address for the host's ::1 (`--host-loopback`), inside the guests' prefix:
/// guests resolve it on the link, so the stack answers their neighbour solicitations for it
/// as a proxy (RFC 4861 §7.2.8, `IPv6Layer+Proxy.swift`), and only once it is mapped. The
/// stack is DirectStackIPv6Tests's fd00:77::2/64; the mapped address fd00:77::4.
struct HostLoopbackIPv6ProxyTests {
  typealias Fixture = DirectStackIPv6Tests
  let relay = RelayIPv6Tests()
  static let mapped = IPv6Address(0xfd00, 0x77, 0, 0, 0, 0, 0, 4)

  /// The captured solicitation (Fixture.neighbourSolicitation) for `target` instead, to its
  /// solicited-node group, with the ICMPv6 checksum made again.
  static func solicitation(for target: IPv6Address) -> [UInt8] {
    var packet = Fixture.neighbourSolicitation
    let group = target.solicitedNodeMulticast
    packet.replaceSubrange(24..<40, with: group.octets)
    packet.replaceSubrange(48..<64, with: target.octets)
    packet[42] = 0
    packet[43] = 0
    var sum = InternetChecksum.pseudoHeader(
      source: .v6(Fixture.peer), destination: .v6(group),
      protocolNumber: IPProtocolNumber(rawValue: 58), length: packet.count - 40)
    let message = Array(packet[40...])
    sum.add(message.span)
    packet[42] = UInt8(sum.value >> 8)
    packet[43] = UInt8(sum.value & 0xFF)
    return packet
  }

  /// How many neighbour advertisements the stack sends for `target`'s solicitation from the
  /// guest (its counter; solicitations not for it are counted too).
  func advertisements(
    for target: IPv6Address, _ stack: inout DirectStack, _ device: inout MemoryDevice,
    _ now: inout Instant
  ) -> (sent: UInt64, notForUs: UInt64) {
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    let before = stack.ipv6.ndpCounters
    device.inbox.append(
      Fixture.frame(
        Self.solicitation(for: target), to: MACAddress(multicast: target.solicitedNodeMulticast)))
    now = now + .milliseconds(1)
    _ = stack.poll(now: now, device: &device)
    let after = stack.ipv6.ndpCounters
    return (
      after.neighbourAdvertisementsSent - before.neighbourAdvertisementsSent,
      after.solicitationsNotForUs - before.solicitationsNotForUs
    )
  }

  /// A relay stack with `--host-loopback` mapped to ``mapped``, answering for it on the link.
  func stackAnsweringForTheMappedAddress() throws -> (DirectStack, MemoryDevice, Instant) {
    var policy = RelayDestinationPolicy(
      guestSubnet: IPv4CIDR(address: IPv4Address(10, 0, 0, 2), prefixLength: 24))
    policy.hostLoopbackIPv6 = Self.mapped
    var (stack, device, now) = try relay.makeStack(policy: policy)
    let answering = stack.answerForHostLoopbackIPv6(now: now)
    #expect(answering)
    return (stack, device, now)
  }

  @Test func theMappedAddressIsAnsweredForOnTheLink() throws {
    var (stack, device, now) = try stackAnsweringForTheMappedAddress()
    let answers = advertisements(for: Self.mapped, &stack, &device, &now)
    #expect(stack.ipv6.icmpCounters.droppedBadChecksum == 0)
    #expect(answers.sent == 1 && answers.notForUs == 0)
    // Packets to it are the relay's: to the host's ::1.
    #expect(stack.relay?.policy.decision(for: Self.mapped) == .relay(hostAddress: .v6(.loopback)))
  }

  /// RFC 4861 §7.2.8: a proxy's solicited advertisement has the override flag clear (the
  /// owner's own advertisement must win), where an advertisement of the stack's own address
  /// has it set (§7.2.4).
  @Test func theProxyAdvertisementDoesNotOverride() throws {
    var (stack, device, now) = try stackAnsweringForTheMappedAddress()
    /// The flags byte of the advertisement of `target` the stack sends for its solicitation.
    func advertisedFlags(for target: IPv6Address) -> UInt8? {
      now = now + .milliseconds(1)
      _ = stack.poll(now: now, device: &device)
      _ = device.takeSent()
      device.inbox.append(
        Fixture.frame(
          Self.solicitation(for: target), to: MACAddress(multicast: target.solicitedNodeMulticast)))
      now = now + .milliseconds(1)
      _ = stack.poll(now: now, device: &device)
      let advertisement = Fixture.decode(device.takeSent()).map(\.1).first {
        $0.count >= 64 && $0[40] == 136 && Array($0[48..<64]) == target.octets
      }
      return advertisement?[44]
    }
    let proxied = try #require(advertisedFlags(for: Self.mapped))
    #expect(proxied & 0x40 != 0)  // solicited
    #expect(proxied & 0x20 == 0)  // override clear
    let own = try #require(advertisedFlags(for: Fixture.ours))
    #expect(own & 0x60 == 0x60)  // solicited, override
  }

  @Test func unmappedItIsNotAnsweredFor() throws {
    var (stack, device, now) = try relay.makeStack()
    let answering = stack.answerForHostLoopbackIPv6(now: now)
    #expect(!answering)
    let answers = advertisements(for: Self.mapped, &stack, &device, &now)
    #expect(answers.sent == 0)
  }
}
