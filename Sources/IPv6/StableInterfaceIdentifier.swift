import NetCore

/// Stable, semantically opaque interface identifiers (RFC 7217 §5): for each prefix a host
/// configures an address in, an identifier that stays the same on that network and says
/// nothing about the host elsewhere (unlike one made from the MAC, RFC 4291 Appendix A).
///
/// RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key), with SipHash-2-4 as the
/// pseudo-random function F (64 bits: exactly an interface identifier). Net_Iface is the
/// interface's MAC, Network_ID an optional identifier of the network (0 when there is none),
/// DAD_Counter the number of duplicates met for this prefix (§6). An identifier RFC 5453
/// reserves is skipped by counting on (§5).
public struct StableInterfaceIdentifier: Sendable {
  let hasher: SipHash
  /// Net_Iface.
  public let interface: MACAddress
  /// Network_ID.
  public let networkID: UInt64

  /// `secretKey` must be random and, for the identifiers to be stable, kept across restarts.
  public init(secretKey: (UInt64, UInt64), interface: MACAddress, networkID: UInt64 = 0) {
    hasher = SipHash(key0: secretKey.0, key1: secretKey.1)
    self.interface = interface
    self.networkID = networkID
  }

  /// The identifier for `prefix` (its top 64 bits) after `dadCounter` duplicates, and the
  /// counter it was made with (larger when reserved identifiers were skipped).
  public func identifier(prefix: IPv6Address, dadCounter: Int) -> (
    identifier: UInt64, dadCounter: Int
  ) {
    var counter = dadCounter
    while true {
      let value = hasher.hash(prefix.high, interface.rawValue, networkID, UInt64(counter))
      if !StableInterfaceIdentifier.isReserved(value) { return (value, counter) }
      counter += 1
    }
  }

  /// Whether RFC 5453 reserves the identifier: the subnet-router anycast (all zeros), the
  /// reserved subnet anycast identifiers `fdff:ffff:ffff:ff80`–`ffff`, and those of the IANA
  /// Ethernet block, `0200:5eff:fe00:0000`–`0200:5eff:feff:ffff`.
  public static func isReserved(_ identifier: UInt64) -> Bool {
    identifier == 0 || identifier >= 0xFDFF_FFFF_FFFF_FF80 && identifier <= 0xFDFF_FFFF_FFFF_FFFF
      || identifier >> 24 == 0x02_005E_FFFE
  }
}
