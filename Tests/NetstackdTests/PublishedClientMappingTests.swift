import NetCore
import NetworkAPI
import Testing

@testable import netstackd

/// Where a published port's connection or UDP flow into the guest comes from for each kind of
/// client (the client itself, `--host-loopback`, or the stack).
struct PublishedClientMappingTests {
  private static let guestIPv4 = IPAddress.v4(IPv4Address(10, 0, 2, 15))
  private static let guestIPv6 = IPAddress.v6(try! IPv6Address(parsing: "fd00::100"))

  private func mapping(relaying: Bool = true, loopbacks: Bool = false) -> PublishedClientMapping {
    PublishedClientMapping(
      guestSubnet: try! IPv4CIDR(parsing: "10.0.2.2/24"),
      guestPrefixes: [try! IPv6CIDR(parsing: "fd00::/64")], relaying: relaying,
      hostLoopback: loopbacks ? IPv4Address(10, 0, 2, 4) : nil,
      hostLoopbackIPv6: loopbacks ? try! IPv6Address(parsing: "fd00::4") : nil)
  }

  private func client(_ text: String, _ port: UInt16 = 40000) -> SocketAddress {
    if text.contains(":") { return SocketAddress(.v6(try! IPv6Address(parsing: text)), port) }
    return SocketAddress(try! IPv4Address(parsing: text), port)
  }

  @Test func aRemoteClientOfTheGuestsFamilyIsShown() {
    let v4 = client("10.77.0.1")
    #expect(mapping().source(for: v4, to: Self.guestIPv4) == v4)
    let v6 = client("fd77::1")
    #expect(mapping().source(for: v6, to: Self.guestIPv6) == v6)
  }

  @Test func aClientOfTheOtherFamilyIsTheStack() {
    #expect(mapping().source(for: client("10.77.0.1"), to: Self.guestIPv6) == nil)
    #expect(mapping().source(for: client("fd77::1"), to: Self.guestIPv4) == nil)
  }

  @Test func withoutTheRelayTheGuestCannotAnswerAClient() {
    let m = mapping(relaying: false)
    #expect(m.source(for: client("10.77.0.1"), to: Self.guestIPv4) == nil)
    #expect(m.source(for: client("fd77::1"), to: Self.guestIPv6) == nil)
  }

  @Test func aClientInsideTheGuestsNetworkIsTheStack() {
    #expect(mapping().source(for: client("10.0.2.99"), to: Self.guestIPv4) == nil)
    #expect(mapping().source(for: client("fd00::99"), to: Self.guestIPv6) == nil)
    #expect(mapping().source(for: client("fe80::1"), to: Self.guestIPv6) == nil)
    #expect(mapping().source(for: client("::ffff:10.77.0.1"), to: Self.guestIPv6) == nil)
  }

  @Test func aLoopbackClientIsTheStackUnlessMapped() {
    #expect(mapping().source(for: client("127.0.0.1"), to: Self.guestIPv4) == nil)
    #expect(mapping().source(for: client("::1"), to: Self.guestIPv6) == nil)
    let mapped = mapping(loopbacks: true)
    #expect(
      mapped.source(for: client("127.0.0.1"), to: Self.guestIPv4)
        == SocketAddress(IPv4Address(10, 0, 2, 4), 0))
    #expect(
      mapped.source(for: client("::1"), to: Self.guestIPv6)
        == SocketAddress(.v6(try! IPv6Address(parsing: "fd00::4")), 0))
    // A loopback client of the other family: the stack's own address.
    #expect(mapped.source(for: client("::1"), to: Self.guestIPv4) == nil)
  }
}
