import NetCore
import Testing

/// Prefixes: parsing, printing, netmask, network, broadcast and membership.
struct IPv4CIDRTests {
  @Test(arguments: [
    ("10.77.0.2/24", IPv4Address(10, 77, 0, 2), 24),
    ("0.0.0.0/0", IPv4Address.any, 0),
    ("255.255.255.255/32", IPv4Address.broadcast, 32),
    ("192.168.1.7/31", IPv4Address(192, 168, 1, 7), 31),
    ("172.16.5.4/12", IPv4Address(172, 16, 5, 4), 12),
    ("10.0.0.1/8", IPv4Address(10, 0, 0, 1), 8),
  ])
  func parsesValidText(text: String, address: IPv4Address, prefixLength: Int) throws {
    let cidr = try IPv4CIDR(parsing: text)
    #expect(cidr.address == address)
    #expect(cidr.prefixLength == prefixLength)
    #expect(cidr.description == text)
  }

  @Test(arguments: [
    "10.0.0.1", "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/99", "10.0.0.1/100", "10.0.0.1/024",
    "10.0.0.1/-1", "10.0.0.1/+8", "10.0.0.1/ 8", "10.0.0.1/8 ", "10.0.0.1/2/4", "10.0.0.1/x",
    "10.0.0.1//8", "",
  ])
  func rejectsBadPrefixLengths(text: String) {
    #expect(throws: AddressParseError.invalidPrefixLength(text)) { try IPv4CIDR(parsing: text) }
  }

  @Test(arguments: ["/24", "10.0.0/24", "10.0.0.256/24", "010.0.0.1/24", "10.0.0.1 /24", "x/8"])
  func rejectsBadAddresses(text: String) {
    #expect(throws: AddressParseError.invalidIPv4Address(text)) { try IPv4CIDR(parsing: text) }
  }

  @Test func netmaskNetworkAndBroadcast() throws {
    let cidr = try IPv4CIDR(parsing: "10.77.0.2/24")
    #expect(cidr.netmask == IPv4Address(255, 255, 255, 0))
    #expect(cidr.networkAddress == IPv4Address(10, 77, 0, 0))
    #expect(cidr.broadcastAddress == IPv4Address(10, 77, 0, 255))
    #expect(cidr.network == IPv4CIDR(address: IPv4Address(10, 77, 0, 0), prefixLength: 24))

    let odd = try IPv4CIDR(parsing: "172.16.200.9/13")
    #expect(odd.netmask == IPv4Address(255, 248, 0, 0))
    #expect(odd.networkAddress == IPv4Address(172, 16, 0, 0))
    #expect(odd.broadcastAddress == IPv4Address(172, 23, 255, 255))

    let all = try IPv4CIDR(parsing: "1.2.3.4/0")
    #expect(all.netmask == .any)
    #expect(all.networkAddress == .any)
    #expect(all.broadcastAddress == .broadcast)

    let host = try IPv4CIDR(parsing: "1.2.3.4/32")
    #expect(host.netmask == .broadcast)
    #expect(host.networkAddress == IPv4Address(1, 2, 3, 4))
  }

  @Test func netmaskForEveryLength() {
    for length in 0...32 {
      let cidr = IPv4CIDR(address: IPv4Address(10, 1, 2, 3), prefixLength: length)
      let mask = cidr.netmask.rawValue
      #expect(mask.nonzeroBitCount == length)
      #expect(mask.leadingZeroBitCount == (length == 0 ? 32 : 0))
      #expect(IPv4CIDR(address: cidr.address, netmask: cidr.netmask) == cidr)
    }
  }

  @Test func initFromNetmaskRejectsNonContiguousMasks() {
    #expect(IPv4CIDR(address: .any, netmask: IPv4Address(255, 0, 255, 0)) == nil)
    #expect(IPv4CIDR(address: .any, netmask: IPv4Address(0, 255, 255, 255)) == nil)
    #expect(IPv4CIDR(address: .any, netmask: IPv4Address(255, 255, 255, 1)) == nil)
    #expect(
      IPv4CIDR(address: IPv4Address(10, 0, 0, 1), netmask: IPv4Address(255, 255, 192, 0))?
        .prefixLength == 18)
  }

  @Test func contains() throws {
    let cidr = try IPv4CIDR(parsing: "10.77.0.2/24")
    #expect(cidr.contains(IPv4Address(10, 77, 0, 0)))
    #expect(cidr.contains(IPv4Address(10, 77, 0, 1)))
    #expect(cidr.contains(IPv4Address(10, 77, 0, 255)))
    #expect(!cidr.contains(IPv4Address(10, 77, 1, 0)))
    #expect(!cidr.contains(IPv4Address(10, 76, 255, 255)))
    #expect(try IPv4CIDR(parsing: "0.0.0.0/0").contains(.broadcast))
    let host = try IPv4CIDR(parsing: "10.0.0.1/32")
    #expect(host.contains(IPv4Address(10, 0, 0, 1)))
    #expect(!host.contains(IPv4Address(10, 0, 0, 2)))
  }

  @Test func directedBroadcast() throws {
    let cidr = try IPv4CIDR(parsing: "10.77.0.2/24")
    #expect(cidr.isDirectedBroadcast(IPv4Address(10, 77, 0, 255)))
    #expect(!cidr.isDirectedBroadcast(IPv4Address(10, 77, 0, 254)))
    #expect(!cidr.isDirectedBroadcast(.broadcast))
    // /31 (RFC 3021) and /32 have no broadcast address.
    #expect(!(try IPv4CIDR(parsing: "10.0.0.1/31")).isDirectedBroadcast(IPv4Address(10, 0, 0, 1)))
    #expect(!(try IPv4CIDR(parsing: "10.0.0.1/32")).isDirectedBroadcast(IPv4Address(10, 0, 0, 1)))
    #expect((try IPv4CIDR(parsing: "10.0.0.1/30")).isDirectedBroadcast(IPv4Address(10, 0, 0, 3)))
  }
}
