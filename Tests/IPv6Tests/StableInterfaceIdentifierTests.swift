import IPv6
import NetCore
import Testing

/// RFC 7217 interface identifiers: stable per prefix, different across prefixes, interfaces,
/// keys and DAD counters, never a reserved identifier (RFC 5453).
struct StableInterfaceIdentifierTests {
  let generator = StableInterfaceIdentifier(secretKey: testSecretKey, interface: LinuxCaptures.macB)

  @Test func stableAndOpaque() {
    let prefix = LinuxCaptures.prefix
    let first = generator.identifier(prefix: prefix, dadCounter: 0)
    #expect(generator.identifier(prefix: prefix, dadCounter: 0) == first)
    #expect(first.dadCounter == 0)
    // Another prefix, counter, interface or key: another identifier.
    #expect(
      generator.identifier(prefix: .linkLocalPrefix, dadCounter: 0).identifier != first.identifier)
    #expect(generator.identifier(prefix: prefix, dadCounter: 1).identifier != first.identifier)
    let otherInterface = StableInterfaceIdentifier(
      secretKey: testSecretKey, interface: LinuxCaptures.macA)
    #expect(otherInterface.identifier(prefix: prefix, dadCounter: 0).identifier != first.identifier)
    let otherKey = StableInterfaceIdentifier(secretKey: (1, 2), interface: LinuxCaptures.macB)
    #expect(otherKey.identifier(prefix: prefix, dadCounter: 0).identifier != first.identifier)
    // Nothing of the MAC shows (not the EUI-64 identifier 0000:00ff:fe00:000b).
    #expect(first.identifier != 0x0000_00FF_FE00_000B)
    // Only the top 64 bits of the prefix count.
    let sameSubnet = IPv6Address(prefix: prefix, interfaceIdentifier: 0x1234)
    #expect(generator.identifier(prefix: sameSubnet, dadCounter: 0) == first)
  }

  @Test func reservedIdentifiers() {
    #expect(StableInterfaceIdentifier.isReserved(0))
    #expect(StableInterfaceIdentifier.isReserved(0xFDFF_FFFF_FFFF_FF80))
    #expect(StableInterfaceIdentifier.isReserved(0xFDFF_FFFF_FFFF_FFFF))
    #expect(!StableInterfaceIdentifier.isReserved(0xFDFF_FFFF_FFFF_FF7F))
    #expect(StableInterfaceIdentifier.isReserved(0x0200_5EFF_FE00_0000))
    #expect(StableInterfaceIdentifier.isReserved(0x0200_5EFF_FE00_5213))
    #expect(StableInterfaceIdentifier.isReserved(0x0200_5EFF_FEFF_FFFF))
    #expect(!StableInterfaceIdentifier.isReserved(0x0200_5EFF_FF00_0000))
    #expect(!StableInterfaceIdentifier.isReserved(1))
  }
}
