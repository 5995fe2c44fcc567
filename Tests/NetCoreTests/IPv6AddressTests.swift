import NetCore
import Testing

/// IPv6 addresses: the text forms of RFC 4291 §2.2 read, RFC 5952 written, kinds, scopes,
/// solicited-node groups and the Ethernet multicast mapping of RFC 2464 §7.
struct IPv6AddressTests {
  /// Text in, canonical RFC 5952 text out (the examples of RFC 5952 §4 and RFC 4291 §2.2).
  @Test(arguments: [
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
    ("2001:db8::1:0:0:1", "2001:db8::1:0:0:1"),
    ("2001:DB8::1", "2001:db8::1"),
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"),
    ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
    ("2001:db8::0:1", "2001:db8::1"),
    ("0:0:0:0:0:0:0:0", "::"),
    ("::", "::"),
    ("::1", "::1"),
    ("1::", "1::"),
    ("fe80::ff:fe00:a", "fe80::ff:fe00:a"),
    ("FF02:0:0:0:0:0:0:1", "ff02::1"),
    ("ff02::1:ff00:a", "ff02::1:ff00:a"),
    ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
    ("1::3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"),
    ("::13.1.68.3", "::d01:4403"),
    ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ("fd00:77::ff:fe00:a", "fd00:77::ff:fe00:a"),
  ])
  func parsesAndPrints(text: String, canonical: String) throws {
    let address = try IPv6Address(parsing: text)
    #expect(address.description == canonical)
    #expect(try IPv6Address(parsing: canonical) == address)
  }

  @Test(arguments: [
    "", ":", ":::", "1", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::2", "1::2:",
    "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "12345::", "g::1", "1:2:3:4:5:6:7::8",
    "::1:2:3:4:5:6:7:8",
    "1::2:3:4:5:6:7:8", "::1.2.3", "::1.2.3.256", "::1.2.3.4:5", "1.2.3.4", "fe80::1%eth0",
    "[::1]", " ::1", "::1 ", "::01.2.3.4", "1:2:3:4:5:6:1.2.3.4:8", "1:2:3:4:5:6:7:1.2.3.4",
    "::-1", "0x1::",
  ])
  func rejectsBadText(text: String) {
    #expect(throws: AddressParseError.invalidIPv6Address(text)) { try IPv6Address(parsing: text) }
  }

  @Test func zeroRunsOfOneGroupAreNotCompressed() {
    // RFC 5952 §4.2.2: "::" must not shorten just one 16-bit 0 field.
    #expect(IPv6Address(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1).description == "2001:db8:0:1:1:1:1:1")
    // §4.2.3: the longest run is shortened; of equal runs, the first.
    #expect(IPv6Address(0x2001, 0, 0, 1, 0, 0, 0, 1).description == "2001:0:0:1::1")
    #expect(IPv6Address(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1).description == "2001:db8::1:0:0:1")
  }

  @Test func bytesRoundTrip() {
    let bytes: [UInt8] = [
      0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    ]
    let address = IPv6Address(bytes.span, at: 0)
    #expect(address == IPv6Address(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 0xa))
    #expect(address.octets == bytes)
    #expect(address.group(7) == 0xa && address.octet(11) == 0xff)
    var written = [UInt8](repeating: 0, count: 18)
    var span = written.mutableSpan
    address.write(to: &span, at: 2)
    _ = consume span
    #expect(Array(written[2...]) == bytes)
  }

  @Test func kindsAndScopes() throws {
    func address(_ text: String) throws -> IPv6Address { try IPv6Address(parsing: text) }
    #expect(IPv6Address.unspecified.isUnspecified && !IPv6Address.unspecified.isUnicast)
    #expect(IPv6Address.loopback.isLoopback && IPv6Address.loopback.scope == .linkLocal)
    #expect(try address("fe80::1").isLinkLocal && address("febf::1").isLinkLocal)
    #expect(try !address("fec0::1").isLinkLocal && !address("fe7f::1").isLinkLocal)
    #expect(try address("fe80::1").scope == .linkLocal)
    #expect(try address("fd00:77::1").isUniqueLocal && address("fc00::1").isUniqueLocal)
    #expect(try !address("fe00::1").isUniqueLocal)
    #expect(try address("fd00:77::1").scope == .global)
    #expect(try address("2001:db8::1").isGlobalUnicast && !address("fd00::1").isGlobalUnicast)
    #expect(try address("::ffff:10.0.0.1").isIPv4Mapped)
    #expect(try !address("::ffff:10.0.0.1").isGlobalUnicast)
    #expect(IPv6Address.allNodes.isMulticast && IPv6Address.allNodes.scope == .linkLocal)
    #expect(try address("ff05::2").scope == .siteLocal)
    #expect(try address("ff0e::101").scope == .global)
    #expect(try address("ff01::1").scope == .interfaceLocal)
    #expect(try !address("ff02::1").isUnicast)
  }

  @Test func solicitedNodeGroup() throws {
    // RFC 4291 §2.7.1: FF02:0:0:0:0:1:FF00::/104 and the low 24 bits.
    let address = try IPv6Address(parsing: "2001:db8::4:3:2:1234:5678")
    #expect(address.solicitedNodeMulticast == (try IPv6Address(parsing: "ff02::1:ff34:5678")))
    #expect(address.solicitedNodeMulticast.isSolicitedNodeMulticast)
    #expect(!IPv6Address.allNodes.isSolicitedNodeMulticast)
    #expect(try !IPv6Address(parsing: "ff02::2:ff34:5678").isSolicitedNodeMulticast)
  }

  @Test func multicastMACAddress() throws {
    // RFC 2464 §7: 33:33 and the last four octets; the capture's solicitation for
    // fe80::ff:fe00:a went to ff02::1:ff00:a, at 33:33:ff:00:00:0a.
    let group = try IPv6Address(parsing: "ff02::1:ff00:a")
    #expect(MACAddress(multicast: group) == MACAddress(0x33, 0x33, 0xff, 0x00, 0x00, 0x0a))
    #expect(MACAddress(multicast: IPv6Address.allNodes).description == "33:33:00:00:00:01")
    #expect(MACAddress(multicast: IPv6Address.allNodes).isMulticast)
  }

  @Test func prefixes() throws {
    let address = try IPv6Address(parsing: "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff")
    #expect(address.masked(prefixLength: 64) == (try IPv6Address(parsing: "2001:db8:aaaa:bbbb::")))
    #expect(address.masked(prefixLength: 0) == .unspecified)
    #expect(address.masked(prefixLength: 128) == address)
    #expect(address.masked(prefixLength: 3) == (try IPv6Address(parsing: "2000::")))
    #expect(
      address.masked(prefixLength: 72) == (try IPv6Address(parsing: "2001:db8:aaaa:bbbb:cc00::")))
    #expect(address.commonPrefixLength(with: address) == 128)
    #expect(address.commonPrefixLength(with: try IPv6Address(parsing: "2001:db8::")) == 32)
    #expect(
      address.commonPrefixLength(with: try IPv6Address(parsing: "2001:db8:aaaa:bbbb:cccc::")) == 80)
    let joined = IPv6Address(prefix: address, interfaceIdentifier: 0x1234)
    #expect(joined == (try IPv6Address(parsing: "2001:db8:aaaa:bbbb::1234")))
    #expect(IPv6Address.loopback < IPv6Address.allNodes)
  }
}
