import NetCore
import Testing

/// IPv6 prefixes: parsing, printing and membership.
struct IPv6CIDRTests {
  @Test(arguments: [
    ("2001:db8::2/64", "2001:db8::2", 64),
    ("::/0", "::", 0),
    ("fe80::1/128", "fe80::1", 128),
    ("fd00:77::1/48", "fd00:77::1", 48),
  ])
  func parsesValidText(text: String, address: String, prefixLength: Int) throws {
    let cidr = try IPv6CIDR(parsing: text)
    #expect(cidr.address == (try IPv6Address(parsing: address)))
    #expect(cidr.prefixLength == prefixLength)
    #expect(cidr.description == text)
  }

  @Test(arguments: [
    "2001:db8::1", "::1/", "::1/129", "::1/064", "::1/-1", "::1/ 8", "::1/8/8", "::1/x", "",
  ])
  func rejectsBadPrefixLengths(text: String) {
    #expect(throws: AddressParseError.invalidIPv6PrefixLength(text)) { try IPv6CIDR(parsing: text) }
  }

  @Test(arguments: ["/64", "2001:db8:::1/64", "10.0.0.1/24", "x/8", "fe80::1%eth0/64"])
  func rejectsBadAddresses(text: String) {
    #expect(throws: AddressParseError.invalidIPv6Address(text)) { try IPv6CIDR(parsing: text) }
  }

  @Test func membership() throws {
    let cidr = try IPv6CIDR(parsing: "2001:db8:1:2::5/64")
    #expect(cidr.prefix == (try IPv6Address(parsing: "2001:db8:1:2::")))
    #expect(cidr.network.description == "2001:db8:1:2::/64")
    #expect(cidr.contains(try IPv6Address(parsing: "2001:db8:1:2:ffff::1")))
    #expect(!cidr.contains(try IPv6Address(parsing: "2001:db8:1:3::1")))
    #expect(try IPv6CIDR(parsing: "::/0").contains(IPv6Address.allNodes))
    let host = try IPv6CIDR(parsing: "2001:db8::1/128")
    #expect(host.contains(try IPv6Address(parsing: "2001:db8::1")))
    #expect(!host.contains(try IPv6Address(parsing: "2001:db8::2")))
    let odd = try IPv6CIDR(parsing: "2001:db8::/31")
    #expect(odd.contains(try IPv6Address(parsing: "2001:db9::1")))
    #expect(!odd.contains(try IPv6Address(parsing: "2001:dba::1")))
  }
}
