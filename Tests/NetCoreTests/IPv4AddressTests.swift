import NetCore
import Testing

/// Text form, classification and wire access of `IPv4Address`.
struct IPv4AddressTests {
  @Test(arguments: [
    ("0.0.0.0", 0 as UInt32),
    ("10.77.0.2", 0x0A4D_0002),
    ("255.255.255.255", 0xFFFF_FFFF),
    ("192.168.100.1", 0xC0A8_6401),
    ("1.2.3.4", 0x0102_0304),
    ("100.0.10.200", 0x6400_0AC8),
  ])
  func parsesValidText(text: String, value: UInt32) throws {
    let address = try IPv4Address(parsing: text)
    #expect(address.rawValue == value)
    #expect(address.description == text)
  }

  @Test(arguments: [
    "", ".", "...", "1", "1.2", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.4.5", "1..2.3",
    "256.0.0.1", "1.2.3.256", "1.2.3.999", "1.2.3.1000", "01.2.3.4", "1.2.3.04", "1.2.3.00",
    "1.2.3.-4", "+1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24", "a.b.c.d", "1.2.3.0x4",
    "1,2,3,4", "4294967295", "1.2.3.4\u{0}", "１.2.3.4", "00000000000001.2.3.4",
  ])
  func rejectsBadText(text: String) {
    #expect(throws: AddressParseError.invalidIPv4Address(text)) { try IPv4Address(parsing: text) }
  }

  @Test func octetsAndInitializers() {
    let address = IPv4Address(10, 77, 0, 2)
    #expect(address.rawValue == 0x0A4D_0002)
    #expect((0..<4).map { address.octet($0) } == [10, 77, 0, 2])
    #expect(address == IPv4Address(rawValue: 0x0A4D_0002))
    #expect(IPv4Address(10, 0, 0, 1) < IPv4Address(10, 0, 0, 2))
    #expect(IPv4Address(9, 255, 255, 255) < IPv4Address(10, 0, 0, 0))
  }

  @Test func readsAndWritesSpans() {
    var bytes: [UInt8] = [0xEE, 10, 77, 0, 2, 0xEE]
    #expect(IPv4Address(bytes.span, at: 1) == IPv4Address(10, 77, 0, 2))
    var span = bytes.mutableSpan
    IPv4Address(192, 168, 1, 254).write(to: &span, at: 2)
    #expect(bytes == [0xEE, 10, 192, 168, 1, 254])
  }

  struct Classification: Sendable, CustomTestStringConvertible {
    var address: IPv4Address
    var unspecified = false
    var broadcast = false
    var multicast = false
    var loopback = false
    var linkLocal = false
    var reserved = false
    var unicast = false
    var testDescription: String { address.description }
  }

  @Test(arguments: [
    Classification(address: .any, unspecified: true),
    Classification(address: .broadcast, broadcast: true, reserved: true),
    Classification(address: IPv4Address(224, 0, 0, 1), multicast: true),
    Classification(address: IPv4Address(239, 255, 255, 255), multicast: true),
    Classification(address: IPv4Address(223, 255, 255, 255), unicast: true),
    Classification(address: IPv4Address(240, 0, 0, 1), reserved: true),
    Classification(address: IPv4Address(127, 0, 0, 1), loopback: true, unicast: true),
    Classification(address: IPv4Address(127, 255, 255, 254), loopback: true, unicast: true),
    Classification(address: IPv4Address(169, 254, 3, 4), linkLocal: true, unicast: true),
    Classification(address: IPv4Address(169, 253, 3, 4), unicast: true),
    Classification(address: IPv4Address(10, 77, 0, 2), unicast: true),
    Classification(address: IPv4Address(0, 0, 0, 1), unicast: true),
  ])
  func classification(expected: Classification) {
    let address = expected.address
    #expect(address.isUnspecified == expected.unspecified)
    #expect(address.isBroadcast == expected.broadcast)
    #expect(address.isMulticast == expected.multicast)
    #expect(address.isLoopback == expected.loopback)
    #expect(address.isLinkLocal == expected.linkLocal)
    #expect(address.isReserved == expected.reserved)
    #expect(address.isUnicast == expected.unicast)
  }

  @Test func parseErrorDescriptionNamesTheText() {
    let error = AddressParseError.invalidIPv4Address("1.2.3")
    #expect(error.description.contains("'1.2.3'"))
  }
}
