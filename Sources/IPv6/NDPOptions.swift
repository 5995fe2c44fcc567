import NetCore

/// The options of a neighbour discovery message, parsed and checked (RFC 4861 §4.6), and how
/// to write them.
///
/// Every option has a type, a length in units of 8 bytes and data. A length of zero, or one
/// that runs past the message, makes the whole message invalid (§4.6: "Nodes MUST silently
/// discard an ND packet that contains an option with length zero"). Known options:
///
/// - source and target link-layer address (§4.6.1): on Ethernet exactly one unit with a MAC
///   (RFC 2464 §6); another length makes the message invalid (as Linux refuses it);
/// - prefix information (§4.6.2): four units; another length, or a prefix length over 128,
///   is ignored (the rest of the message is used);
/// - MTU (§4.6.4): one unit;
/// - recursive DNS servers (RFC 8106 §5.1): 3, 5, 7, ... units; other lengths are ignored;
/// - nonce (RFC 3971 §5.3.2, used by RFC 7527's duplicate address detection);
/// - redirected header (§4.6.3): only its presence is kept.
///
/// Unknown options are skipped (§4.6: "Receivers MUST silently ignore any options they do not
/// recognize"). Of repeated link-layer address, MTU or nonce options the first counts. At most
/// ``maximumPrefixes`` prefix and ``maximumDNSOptions`` DNS options of one message are kept.
public struct NDPOptions: Equatable, Sendable {
  public var sourceLinkLayerAddress: MACAddress?
  public var targetLinkLayerAddress: MACAddress?
  public var mtu: UInt32?
  public var prefixes: [NDPPrefixInformation] = []
  public var recursiveDNSServers: [NDPRecursiveDNSServers] = []
  /// The nonce's bytes (at least six).
  public var nonce: [UInt8]?
  /// Whether a redirected header option was present.
  public var hasRedirectedHeader = false
  /// Options skipped: unknown, or known with a length they may not have.
  public var ignoredOptions = 0

  /// The most prefix information options kept from one message.
  public static let maximumPrefixes = 32
  /// The most recursive DNS server options kept from one message.
  public static let maximumDNSOptions = 8

  public init(
    sourceLinkLayerAddress: MACAddress? = nil, targetLinkLayerAddress: MACAddress? = nil,
    mtu: UInt32? = nil, prefixes: [NDPPrefixInformation] = [],
    recursiveDNSServers: [NDPRecursiveDNSServers] = [], nonce: [UInt8]? = nil
  ) {
    self.sourceLinkLayerAddress = sourceLinkLayerAddress
    self.targetLinkLayerAddress = targetLinkLayerAddress
    self.mtu = mtu
    self.prefixes = prefixes
    self.recursiveDNSServers = recursiveDNSServers
    self.nonce = nonce
  }

  /// Parses the options that fill `bytes`.
  public init(parsing bytes: Span<UInt8>) throws(NDPValidationError) {
    var offset = 0
    while offset < bytes.count {
      guard offset + 2 <= bytes.count else { throw .truncatedOption }
      let type = NDPOptionType(rawValue: bytes[offset])
      let units = Int(bytes[offset + 1])
      guard units > 0 else { throw .zeroLengthOption }
      let length = units * 8
      guard offset + length <= bytes.count else { throw .truncatedOption }
      let option = bytes.extracting(offset..<(offset + length))
      switch type {
      case .sourceLinkLayerAddress, .targetLinkLayerAddress:
        guard units == 1 else { throw .badLinkLayerAddressOption }
        let mac = MACAddress(option, at: 2)
        if type == .sourceLinkLayerAddress {
          if sourceLinkLayerAddress == nil { sourceLinkLayerAddress = mac }
        } else if targetLinkLayerAddress == nil {
          targetLinkLayerAddress = mac
        }
      case .prefixInformation:
        if units == 4, option[2] <= 128, prefixes.count < NDPOptions.maximumPrefixes {
          prefixes.append(NDPPrefixInformation(option))
        } else {
          ignoredOptions += 1
        }
      case .mtu:
        if units == 1 {
          if mtu == nil { mtu = option.uint32(at: 4) }
        } else {
          ignoredOptions += 1
        }
      case .recursiveDNSServers:
        if units >= 3, units % 2 == 1, recursiveDNSServers.count < NDPOptions.maximumDNSOptions {
          var servers: [IPv6Address] = []
          for index in 0..<((units - 1) / 2) {
            servers.append(IPv6Address(option, at: 8 + 16 * index))
          }
          recursiveDNSServers.append(
            NDPRecursiveDNSServers(lifetime: option.uint32(at: 4), servers: servers))
        } else {
          ignoredOptions += 1
        }
      case .nonce:
        if nonce == nil { nonce = option.extracting(droppingFirst: 2).copyToArray() }
      case .redirectedHeader:
        hasRedirectedHeader = true
      default:
        ignoredOptions += 1
      }
      offset += length
    }
  }

  /// The options in wire form: link-layer addresses, MTU, prefixes, DNS servers, nonce.
  public func emitted() -> [UInt8] {
    var bytes: [UInt8] = []
    func appendLinkLayer(_ type: NDPOptionType, _ mac: MACAddress) {
      bytes += [type.rawValue, 1]
      for index in 0..<6 { bytes.append(mac.octet(index)) }
    }
    if let sourceLinkLayerAddress {
      appendLinkLayer(.sourceLinkLayerAddress, sourceLinkLayerAddress)
    }
    if let targetLinkLayerAddress {
      appendLinkLayer(.targetLinkLayerAddress, targetLinkLayerAddress)
    }
    if let mtu {
      bytes += [NDPOptionType.mtu.rawValue, 1, 0, 0]
      appendUInt32(mtu, to: &bytes)
    }
    for prefix in prefixes { prefix.append(to: &bytes) }
    for servers in recursiveDNSServers { servers.append(to: &bytes) }
    if let nonce {
      // Padded with zeros to whole units.
      let units = (2 + nonce.count + 7) / 8
      bytes += [NDPOptionType.nonce.rawValue, UInt8(units)]
      bytes += nonce
      bytes += [UInt8](repeating: 0, count: units * 8 - 2 - nonce.count)
    }
    return bytes
  }
}

/// The type of a neighbour discovery option (RFC 4861 §4.6, IANA "IPv6 Neighbor Discovery
/// Option Formats"); an open set.
public struct NDPOptionType: RawRepresentable, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let sourceLinkLayerAddress = NDPOptionType(rawValue: 1)
  public static let targetLinkLayerAddress = NDPOptionType(rawValue: 2)
  public static let prefixInformation = NDPOptionType(rawValue: 3)
  public static let redirectedHeader = NDPOptionType(rawValue: 4)
  public static let mtu = NDPOptionType(rawValue: 5)
  public static let nonce = NDPOptionType(rawValue: 14)
  public static let recursiveDNSServers = NDPOptionType(rawValue: 25)
}

/// A prefix information option (RFC 4861 §4.6.2): a prefix that is on-link (L) and/or may be
/// used for address autoconfiguration (A), with its lifetimes in seconds.
public struct NDPPrefixInformation: Equatable, Sendable {
  public var prefix: IPv6Address
  public var prefixLength: Int
  /// The L flag: the prefix is on-link (RFC 4861 §6.3.4).
  public var onLink: Bool
  /// The A flag: addresses may be formed from it (RFC 4862 §5.5.3).
  public var autonomous: Bool
  public var validLifetime: UInt32
  public var preferredLifetime: UInt32

  /// A lifetime of all ones: forever.
  public static let infinite: UInt32 = 0xFFFF_FFFF

  public init(
    prefix: IPv6Address, prefixLength: Int, onLink: Bool, autonomous: Bool,
    validLifetime: UInt32, preferredLifetime: UInt32
  ) {
    self.prefix = prefix
    self.prefixLength = prefixLength
    self.onLink = onLink
    self.autonomous = autonomous
    self.validLifetime = validLifetime
    self.preferredLifetime = preferredLifetime
  }

  /// Reads the 32-byte option (type and length included).
  init(_ option: Span<UInt8>) {
    prefixLength = Int(option[2])
    onLink = option[3] & 0x80 != 0
    autonomous = option[3] & 0x40 != 0
    validLifetime = option.uint32(at: 4)
    preferredLifetime = option.uint32(at: 8)
    prefix = IPv6Address(option, at: 16)
  }

  func append(to bytes: inout [UInt8]) {
    bytes += [
      NDPOptionType.prefixInformation.rawValue, 4, UInt8(prefixLength),
      (onLink ? 0x80 : 0) | (autonomous ? 0x40 : 0),
    ]
    appendUInt32(validLifetime, to: &bytes)
    appendUInt32(preferredLifetime, to: &bytes)
    bytes += [0, 0, 0, 0]
    bytes += prefix.octets
  }
}

/// A recursive DNS server option (RFC 8106 §5.1): servers and how many seconds they may be
/// used.
public struct NDPRecursiveDNSServers: Equatable, Sendable {
  public var lifetime: UInt32
  public var servers: [IPv6Address]

  public init(lifetime: UInt32, servers: [IPv6Address]) {
    self.lifetime = lifetime
    self.servers = servers
  }

  func append(to bytes: inout [UInt8]) {
    bytes += [NDPOptionType.recursiveDNSServers.rawValue, UInt8(1 + 2 * servers.count), 0, 0]
    appendUInt32(lifetime, to: &bytes)
    for server in servers { bytes += server.octets }
  }
}

/// Appends a big-endian 32-bit value.
func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
  bytes += [
    UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
    UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
  ]
}
