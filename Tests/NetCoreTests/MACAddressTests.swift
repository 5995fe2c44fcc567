import NetCore
import Testing

/// Text form, classification and wire access of `MACAddress`.
struct MACAddressTests {
  @Test(arguments: [
    ("02:4e:53:00:00:01", 0x024E_5300_0001 as UInt64),
    ("02-4E-53-00-00-01", 0x024E_5300_0001),
    ("ff:ff:ff:ff:ff:ff", 0xFFFF_FFFF_FFFF),
    ("00:00:00:00:00:00", 0),
    ("1:2:3:4:5:6", 0x0102_0304_0506),
    ("aB:cD:eF:01:23:45", 0xABCD_EF01_2345),
  ])
  func parsesValidText(text: String, value: UInt64) throws {
    #expect(try MACAddress(parsing: text).rawValue == value)
  }

  @Test(arguments: [
    "", ":", "02:4e:53:00:00", "02:4e:53:00:00:01:02", "02:4e:53:00:00:", ":02:4e:53:00:00:01",
    "02::4e:53:00:00", "024:e5:30:00:00:01", "02:4e:53-00:00:01", "02:4e:53:00:00:0g",
    "02.4e.53.00.00.01", " 02:4e:53:00:00:01", "02:4e:53:00:00:01 ", "024e53000001",
    "02:4e:53:00:00:01:", "+2:4e:53:00:00:01", "02:4e:53:00:00:1\u{e9}",
  ])
  func rejectsBadText(text: String) {
    #expect(throws: AddressParseError.invalidMACAddress(text)) { try MACAddress(parsing: text) }
  }

  @Test func printsLowerCaseWithColons() throws {
    #expect(MACAddress(0x02, 0x4E, 0x53, 0x00, 0x0A, 0xFF).description == "02:4e:53:00:0a:ff")
    #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
    #expect(MACAddress.zero.description == "00:00:00:00:00:00")
    let parsed = try MACAddress(parsing: "0A-0B-0C-0D-0E-0F")
    #expect(parsed.description == "0a:0b:0c:0d:0e:0f")
    #expect(try MACAddress(parsing: parsed.description) == parsed)
  }

  @Test func octetsAreInWireOrder() {
    let mac = MACAddress(1, 2, 3, 4, 5, 6)
    #expect((0..<6).map { mac.octet($0) } == [1, 2, 3, 4, 5, 6])
    #expect(mac.rawValue == 0x0102_0304_0506)
  }

  @Test func classification() {
    #expect(MACAddress.broadcast.isBroadcast)
    #expect(MACAddress.broadcast.isMulticast)
    #expect(!MACAddress.broadcast.isUnicast)
    let multicast = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)
    #expect(multicast.isMulticast && !multicast.isBroadcast && !multicast.isUnicast)
    let local = MACAddress(0x02, 0x4E, 0x53, 0, 0, 1)
    #expect(local.isUnicast && local.isLocallyAdministered && !local.isMulticast)
    let global = MACAddress(0x00, 0x1B, 0x21, 0x3A, 0x4B, 0x5C)
    #expect(global.isUnicast && !global.isLocallyAdministered)
  }

  /// RFC 1112 §6.4: the low 23 bits of the group go into 01:00:5e:00:00:00.
  @Test func multicastMapping() {
    #expect(MACAddress(multicast: IPv4Address(224, 0, 0, 1)) == MACAddress(1, 0, 0x5E, 0, 0, 1))
    #expect(
      MACAddress(multicast: IPv4Address(239, 255, 255, 250))
        == MACAddress(1, 0, 0x5E, 0x7F, 0xFF, 0xFA))
    // The 24th bit is dropped: 224.128.0.1 maps like 224.0.0.1.
    #expect(
      MACAddress(multicast: IPv4Address(224, 128, 0, 1))
        == MACAddress(multicast: IPv4Address(224, 0, 0, 1)))
  }

  @Test func readsAndWritesSpans() {
    var bytes: [UInt8] = [0xAA, 0x02, 0x4E, 0x53, 0x00, 0x00, 0x01, 0xBB]
    let mac = MACAddress(bytes.span, at: 1)
    #expect(mac == MACAddress(0x02, 0x4E, 0x53, 0, 0, 1))
    var span = bytes.mutableSpan
    MACAddress(9, 8, 7, 6, 5, 4).write(to: &span, at: 2)
    #expect(bytes == [0xAA, 0x02, 9, 8, 7, 6, 5, 4])
  }
}
