import NetCore

/// A published port, `tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT`: netstackd listens on
/// HOSTADDR:HOSTPORT of the host (0.0.0.0 when no address is given) and relays each
/// connection or UDP flow to GUESTADDR:GUESTPORT through the stack (passt's `-t`/`-u`,
/// docker's `-p`). The form of `--publish` and of the control socket's `publish add|remove`.
/// An IPv6 address is written in brackets, as in a URL (RFC 3986 §3.2.2):
/// `tcp:[::1]:8080=[fd00::100]:80`; either side may be of either family.
///
/// Parsing is a pure function of the text, so that it is fuzzed with the control requests.
public struct PublishSpec: Hashable, Sendable, CustomStringConvertible {
  /// The transport of a published port.
  public enum Transport: String, Sendable {
    case tcp
    case udp
  }

  public var transport: Transport
  /// The host address listened on (0.0.0.0: every IPv4 address of netstackd's namespace;
  /// `::` every IPv6 one).
  public var hostAddress: IPAddress
  public var hostPort: UInt16
  /// Where in the guest network connections go.
  public var guestAddress: IPAddress
  public var guestPort: UInt16

  public init(
    transport: Transport, hostAddress: IPAddress = .v4(.any), hostPort: UInt16,
    guestAddress: IPAddress, guestPort: UInt16
  ) {
    self.transport = transport
    self.hostAddress = hostAddress
    self.hostPort = hostPort
    self.guestAddress = guestAddress
    self.guestPort = guestPort
  }

  /// What identifies a published port on the host: transport, address and port.
  public var hostKey: String { "\(transport.rawValue):\(hostEndpoint)" }

  /// The host side as text: `0.0.0.0:8080`, `[::1]:8080`.
  public var hostEndpoint: String { PublishSpec.endpoint(hostAddress, hostPort) }

  /// The guest side as text: `10.0.2.15:80`, `[fd00::100]:80`.
  public var guestEndpoint: String { PublishSpec.endpoint(guestAddress, guestPort) }

  /// The spec in its full form, `tcp:0.0.0.0:8080=10.0.2.15:80`, `tcp:[::]:8080=[fd00::100]:80`.
  public var description: String {
    "\(transport.rawValue):\(hostEndpoint)=\(guestEndpoint)"
  }

  /// The form, for error messages.
  public static let form = "tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT"

  /// Parses `tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT`, an IPv6 address in brackets.
  /// Ports are 1-65535; the guest address must be a unicast address (not 0.0.0.0 or `::`, a
  /// loopback, multicast or broadcast address; over IPv6 not link-local or IPv4-mapped
  /// either); the host address may be any address a socket can be bound to (not multicast or
  /// broadcast, nor IPv4-mapped).
  public static func parse(_ text: String) throws(PublishSpecError) -> PublishSpec {
    guard text.utf8.count <= maximumLength else { throw .tooLong }
    let transport: Transport
    if text.hasPrefix("tcp:") {
      transport = .tcp
    } else if text.hasPrefix("udp:") {
      transport = .udp
    } else {
      throw .transport
    }
    let sides = text.dropFirst(4).split(separator: "=", omittingEmptySubsequences: false)
    guard sides.count == 2 else { throw .shape }
    let host = try split(sides[0])
    let guest = try split(sides[1])
    var hostAddress = IPAddress.v4(.any)
    if let text = host.address {
      guard let address = try? address(text, bracketed: host.bracketed), isBindable(address)
      else { throw .hostAddress }
      hostAddress = address
    }
    guard let hostPort = port(host.port) else { throw .hostPort }
    guard guest.address != nil else { throw .shape }
    guard let text = guest.address,
      let guestAddress = try? address(text, bracketed: guest.bracketed),
      isGuestUnicast(guestAddress)
    else { throw .guestAddress }
    guard let guestPort = port(guest.port) else { throw .guestPort }
    return PublishSpec(
      transport: transport, hostAddress: hostAddress, hostPort: hostPort,
      guestAddress: guestAddress, guestPort: guestPort)
  }

  /// The longest spec taken: two bracketed IPv6 addresses of up to 45 characters (the
  /// dotted form, `[fd00:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535`), `udp:` and `=`
  /// are 111.
  public static let maximumLength = 112

  /// `ADDR:PORT`, `[V6ADDR]:PORT` or `PORT` (no address) split into address and port text.
  private static func split(_ side: Substring) throws(PublishSpecError) -> (
    address: Substring?, bracketed: Bool, port: Substring
  ) {
    if side.hasPrefix("[") {
      guard let close = side.firstIndex(of: "]") else { throw .shape }
      let rest = side[side.index(after: close)...]
      guard rest.hasPrefix(":") else { throw .shape }
      return (side[side.index(after: side.startIndex)..<close], true, rest.dropFirst())
    }
    let parts = side.split(separator: ":", omittingEmptySubsequences: false)
    switch parts.count {
    case 1: return (nil, false, parts[0])
    case 2: return (parts[0], false, parts[1])
    default: throw .shape
    }
  }

  /// An IPv6 address in brackets, an IPv4 one without.
  private static func address(_ text: Substring, bracketed: Bool) throws(AddressParseError)
    -> IPAddress
  {
    bracketed
      ? .v6(try IPv6Address(parsing: String(text))) : .v4(try IPv4Address(parsing: String(text)))
  }

  /// 1-65535 in decimal digits only (no sign, no spaces).
  private static func port(_ text: Substring) -> UInt16? {
    guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      let value = UInt16(text), value > 0
    else { return nil }
    return value
  }

  /// An address a listening socket may have: not multicast or broadcast (nor an IPv4-mapped
  /// IPv6 address: netstackd's IPv6 sockets are IPv6-only).
  private static func isBindable(_ address: IPAddress) -> Bool {
    switch address {
    case .v4(let v4): !isMulticastOrBroadcast(v4)
    case .v6(let v6): !v6.isMulticast && !v6.isIPv4Mapped
    }
  }

  /// One guest's address: unicast, not loopback; over IPv6 of global scope or unique local.
  private static func isGuestUnicast(_ address: IPAddress) -> Bool {
    switch address {
    case .v4(let v4): v4 != .any && !v4.isLoopback && !isMulticastOrBroadcast(v4)
    case .v6(let v6): v6.isUnicast && !v6.isLinkLocal && !v6.isIPv4Mapped
    }
  }

  private static func isMulticastOrBroadcast(_ address: IPv4Address) -> Bool {
    address.rawValue >> 28 == 0xE || address.rawValue == 0xFFFF_FFFF
  }

  /// `a.b.c.d:port` or `[v6]:port`.
  private static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
    address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
  }
}

/// Why a text is not a ``PublishSpec``.
public enum PublishSpecError: Error, Equatable, Sendable, CustomStringConvertible {
  case tooLong
  case transport
  case shape
  case hostAddress
  case hostPort
  case guestAddress
  case guestPort

  public var description: String {
    switch self {
    case .tooLong: "longer than \(PublishSpec.maximumLength) characters"
    case .transport: "does not start with tcp: or udp:"
    case .shape: "is not \(PublishSpec.form) (an IPv6 address in brackets: [fd00::100]:80)"
    case .hostAddress:
      "the host address is not an IPv4 address or an IPv6 one in brackets that a socket can listen on (not multicast or broadcast)"
    case .hostPort: "the host port is not a number from 1 to 65535"
    case .guestAddress:
      "the guest address is not a unicast IPv4 address or an IPv6 one in brackets (not 0.0.0.0, ::, loopback, multicast, link-local or IPv4-mapped)"
    case .guestPort: "the guest port is not a number from 1 to 65535"
    }
  }
}
