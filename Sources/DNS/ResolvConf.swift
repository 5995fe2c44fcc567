import NetCore

/// The name servers and the two timing options of a `resolv.conf` file, read as glibc reads
/// it (resolv.conf(5), glibc `res_init.c`), from its bytes.
///
/// Read:
/// - `nameserver ADDRESS` lines: an IPv4 dotted quad or an IPv6 address (with an optional
///   `%zone`), the address ending at a space, tab, `#` or `;`; the first
///   ``maximumNameServers`` (glibc's MAXNS) count, later ones are ignored; a forwarder asks
///   them in this order, both families (``forwarderAddresses``: not IPv6 link-local ones);
/// - `options` lines: `timeout:N` (seconds per try, at most 30 as RES_MAXRETRANS, at least 1)
///   and `attempts:N` (rounds over the servers, at most 5 as RES_MAXRETRY, at least 1); a later
///   value wins.
///
/// Ignored, and each listed in ``ignored`` with its line number: every other option (`ndots`,
/// `rotate`, `edns0`, ...), `search`, `domain` and `sortlist` (the forwarder relays the
/// guest's queries as they are, so search lists are the guest's own business), lines that
/// name nothing glibc knows, a keyword not followed by a space or tab, name servers past the
/// third, and addresses that do not parse (or are 0.0.0.0, multicast or broadcast). Lines
/// starting with `#` or `;` are comments; a line starting with a blank is not a keyword line
/// (as in glibc). The `RES_OPTIONS` environment variable is not read.
///
/// Parsing never fails: a file with nothing usable gives no name servers.
public struct ResolvConf: Equatable, Sendable {
  /// glibc's MAXNS.
  public static let maximumNameServers = 3
  /// glibc's RES_MAXRETRANS.
  public static let maximumTimeoutSeconds = 30
  /// glibc's RES_MAXRETRY.
  public static let maximumAttempts = 5
  /// The most entries kept in ``ignored`` (the rest are only counted).
  public static let maximumIgnoredListed = 16

  /// The name servers, in the file's order.
  public var nameServers: [ResolvConfNameServer] = []
  /// `options timeout:N`, clamped to 1...30 seconds.
  public var timeoutSeconds: Int?
  /// `options attempts:N`, clamped to 1...5.
  public var attempts: Int?
  /// What was ignored (the first ``maximumIgnoredListed``).
  public var ignored: [ResolvConfIgnoredItem] = []
  /// How many things were ignored in all.
  public var ignoredCount = 0

  public init() {}

  /// Reads a file's contents.
  public init(parsing text: some Collection<UInt8>) {
    var lineNumber = 0
    for line in text.split(separator: 0x0A, omittingEmptySubsequences: false) {
      lineNumber += 1
      var line = ArraySlice(line)
      if line.last == 0x0D { line.removeLast() }
      guard let first = line.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";")
      else { continue }
      if ResolvConf.isBlank(first) {
        if line.contains(where: { !ResolvConf.isBlank($0) }) {
          ignore(lineNumber, .unknownLine, line)
        }
        continue
      }
      if let rest = ResolvConf.keyword("nameserver", line) {
        readNameServer(rest, lineNumber: lineNumber, line: line)
      } else if let rest = ResolvConf.keyword("options", line) {
        readOptions(rest, lineNumber: lineNumber)
      } else if ResolvConf.keyword("search", line) != nil
        || ResolvConf.keyword("domain", line) != nil
        || ResolvConf.keyword("sortlist", line) != nil
      {
        ignore(lineNumber, .notUsedByForwarder, line)
      } else {
        ignore(lineNumber, .unknownLine, line)
      }
    }
  }

  /// The IPv4 name servers, in order.
  public var ipv4NameServers: [IPv4Address] {
    nameServers.compactMap {
      if case .ipv4(let address) = $0 { address } else { nil }
    }
  }

  /// The name servers a forwarder can ask, IPv4 and IPv6 mixed in the file's order
  /// (``ResolvConfNameServer/forwarderAddress``): all but IPv6 link-local ones.
  public var forwarderAddresses: [IPAddress] {
    nameServers.compactMap { $0.forwarderAddress }
  }

  private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

  /// The rest of `line` after `name` and a space or tab (glibc's MATCH), or nil.
  private static func keyword(_ name: StaticString, _ line: ArraySlice<UInt8>)
    -> ArraySlice<UInt8>?
  {
    let word = name.withUTF8Buffer { Array($0) }
    guard line.count > word.count, line.starts(with: word),
      isBlank(line[line.startIndex + word.count])
    else { return nil }
    return line.dropFirst(word.count)
  }

  private mutating func readNameServer(
    _ rest: ArraySlice<UInt8>, lineNumber: Int, line: ArraySlice<UInt8>
  ) {
    let token = rest.drop(while: ResolvConf.isBlank).prefix {
      !ResolvConf.isBlank($0) && $0 != UInt8(ascii: "#") && $0 != UInt8(ascii: ";")
    }
    guard let server = ResolvConf.nameServer(token) else {
      ignore(lineNumber, .badNameServerAddress, line)
      return
    }
    guard nameServers.count < ResolvConf.maximumNameServers else {
      ignore(lineNumber, .tooManyNameServers, line)
      return
    }
    nameServers.append(server)
  }

  private static func nameServer(_ token: ArraySlice<UInt8>) -> ResolvConfNameServer? {
    if let value = parseQuad(token) {
      let address = IPv4Address(rawValue: value)
      guard !address.isUnspecified, !address.isMulticast, !address.isBroadcast else {
        return nil
      }
      return .ipv4(address)
    }
    let percent = token.firstIndex(of: UInt8(ascii: "%"))
    let zone = percent.map { Array(token[($0 + 1)...]) } ?? []
    if percent != nil && zone.isEmpty { return nil }
    let text = String(decoding: token[..<(percent ?? token.endIndex)], as: UTF8.self)
    guard let address = try? IPv6Address(parsing: text) else { return nil }
    guard !address.isMulticast, !address.isUnspecified else { return nil }
    return .ipv6(address: address.octets, zone: zone)
  }

  private mutating func readOptions(_ rest: ArraySlice<UInt8>, lineNumber: Int) {
    for token in rest.split(whereSeparator: ResolvConf.isBlank) {
      if let value = ResolvConf.option("timeout:", token) {
        timeoutSeconds = min(max(value, 1), ResolvConf.maximumTimeoutSeconds)
      } else if let value = ResolvConf.option("attempts:", token) {
        attempts = min(max(value, 1), ResolvConf.maximumAttempts)
      } else {
        ignore(lineNumber, .optionNotUsed, token)
      }
    }
  }

  /// The number after `name` in `token` as glibc's `atoi` reads it (leading digits; none is
  /// 0; huge is huge), or nil if the token is another option.
  private static func option(_ name: StaticString, _ token: ArraySlice<UInt8>) -> Int? {
    let word = name.withUTF8Buffer { Array($0) }
    guard token.starts(with: word) else { return nil }
    var value = 0
    for byte in token.dropFirst(word.count) {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
      value = min(value * 10 + Int(byte - UInt8(ascii: "0")), 1_000_000)
    }
    return value
  }

  private mutating func ignore(
    _ lineNumber: Int, _ reason: ResolvConfIgnoredItem.Reason, _ text: ArraySlice<UInt8>
  ) {
    ignoredCount += 1
    guard ignored.count < ResolvConf.maximumIgnoredListed else { return }
    ignored.append(ResolvConfIgnoredItem(line: lineNumber, reason: reason, text: text))
  }
}

/// A name server of a `resolv.conf` file.
public enum ResolvConfNameServer: Hashable, Sendable {
  case ipv4(IPv4Address)
  /// 16 bytes, and the zone after `%` (an interface name or number; empty for none).
  case ipv6(address: [UInt8], zone: [UInt8])
}

extension ResolvConfNameServer {
  /// The address a forwarder asks: the IPv4 address (an IPv4-mapped IPv6 one included, RFC
  /// 4291 §2.5.5.2), or the IPv6 address with any zone of a global one dropped (the kernel uses a zone only for link-local and multicast addresses,
  /// RFC 4007 §6). Nil for an IPv6 link-local address: it means something only on the
  /// interface its zone names, and the forwarder's sockets do not take an interface.
  public var forwarderAddress: IPAddress? {
    switch self {
    case .ipv4(let address):
      return .v4(address)
    case .ipv6(let octets, _):
      let address = ResolvConfNameServer.address(octets)
      if address.isIPv4Mapped {
        return .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: address.low)))
      }
      return address.isLinkLocal ? nil : .v6(address)
    }
  }

  /// The IPv6 address of 16 bytes.
  static func address(_ octets: [UInt8]) -> IPv6Address {
    var high: UInt64 = 0
    var low: UInt64 = 0
    for index in 0..<8 {
      high = high << 8 | UInt64(octets[index])
      low = low << 8 | UInt64(octets[index + 8])
    }
    return IPv6Address(high: high, low: low)
  }
}

extension ResolvConfNameServer: CustomStringConvertible {
  public var description: String {
    switch self {
    case .ipv4(let address): return address.description
    case .ipv6(let octets, let zone):
      // RFC 5952 text, then the zone as written (RFC 4007 §11), printable ASCII only.
      let text = ResolvConfNameServer.address(octets).description
      let printable = zone.prefix(64).map { $0 > 0x20 && $0 < 0x7F ? $0 : 0x3F }
      return zone.isEmpty ? text : text + "%" + String(decoding: printable, as: UTF8.self)
    }
  }
}

/// Something a `resolv.conf` file says that ``ResolvConf`` does not use, and why.
public struct ResolvConfIgnoredItem: Equatable, Sendable {
  public enum Reason: Equatable, Sendable {
    /// A name server past the third (MAXNS).
    case tooManyNameServers
    /// A `nameserver` line whose address does not parse or cannot be a server.
    case badNameServerAddress
    /// `search`, `domain`, `sortlist`: the guest's resolver does that.
    case notUsedByForwarder
    /// An option other than `timeout:` and `attempts:`.
    case optionNotUsed
    /// A line that is no keyword glibc knows (or starts with a blank).
    case unknownLine
  }

  /// The line's number, from 1.
  public var line: Int
  public var reason: Reason
  /// The line (or the option), printable ASCII only, at most 64 characters.
  public var text: String

  init(line: Int, reason: Reason, text: ArraySlice<UInt8>) {
    self.line = line
    self.reason = reason
    var printable: [UInt8] = []
    for byte in text.prefix(64) { printable.append(byte >= 0x20 && byte < 0x7F ? byte : 0x3F) }
    self.text = String(decoding: printable, as: UTF8.self) + (text.count > 64 ? "..." : "")
  }
}

extension ResolvConfIgnoredItem: CustomStringConvertible {
  /// `line 5: 'nameserver 10.0.0.4' (more than 3 name servers)`.
  public var description: String {
    let why =
      switch reason {
      case .tooManyNameServers: "more than \(ResolvConf.maximumNameServers) name servers"
      case .badNameServerAddress: "not a name server address"
      case .notUsedByForwarder: "not used by a forwarder"
      case .optionNotUsed: "option not used"
      case .unknownLine: "not a resolv.conf line"
      }
    return "line \(line): '\(text)' (\(why))"
  }
}
