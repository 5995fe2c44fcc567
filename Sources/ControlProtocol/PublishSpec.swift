import NetCore

/// A published port, `tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT`: netstackd listens on
/// HOSTADDR:HOSTPORT of the host (0.0.0.0 when no address is given) and relays each
/// connection or UDP flow to GUESTADDR:GUESTPORT through the stack (passt's `-t`/`-u`,
/// docker's `-p`). The form of `--publish` and of the control socket's `publish add|remove`.
///
/// Parsing is a pure function of the text, so that it is fuzzed with the control requests.
public struct PublishSpec: Hashable, Sendable, CustomStringConvertible {
  /// The transport of a published port.
  public enum Transport: String, Sendable {
    case tcp
    case udp
  }

  public var transport: Transport
  /// The host address listened on (0.0.0.0: every address of netstackd's namespace).
  public var hostAddress: IPv4Address
  public var hostPort: UInt16
  /// Where in the guest network connections go.
  public var guestAddress: IPv4Address
  public var guestPort: UInt16

  public init(
    transport: Transport, hostAddress: IPv4Address = .any, hostPort: UInt16,
    guestAddress: IPv4Address, guestPort: UInt16
  ) {
    self.transport = transport
    self.hostAddress = hostAddress
    self.hostPort = hostPort
    self.guestAddress = guestAddress
    self.guestPort = guestPort
  }

  /// What identifies a published port on the host: transport, address and port.
  public var hostKey: String { "\(transport.rawValue):\(hostAddress):\(hostPort)" }

  /// The spec in its full form, `tcp:0.0.0.0:8080=10.0.2.15:80`.
  public var description: String {
    "\(transport.rawValue):\(hostAddress):\(hostPort)=\(guestAddress):\(guestPort)"
  }

  /// The form, for error messages.
  public static let form = "tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT"

  /// Parses `tcp|udp:[HOSTADDR:]HOSTPORT=GUESTADDR:GUESTPORT`. Ports are 1-65535; the guest
  /// address must be a unicast address (not 0.0.0.0, a loopback, multicast or broadcast
  /// address); the host address may be any IPv4 address a socket can be bound to.
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
    let host = sides[0].split(separator: ":", omittingEmptySubsequences: false)
    let guest = sides[1].split(separator: ":", omittingEmptySubsequences: false)
    guard host.count == 1 || host.count == 2, guest.count == 2 else { throw .shape }
    var hostAddress = IPv4Address.any
    if host.count == 2 {
      guard let address = try? IPv4Address(parsing: String(host[0])) else {
        throw .hostAddress
      }
      guard !isMulticastOrBroadcast(address) else { throw .hostAddress }
      hostAddress = address
    }
    guard let hostPort = port(host[host.count - 1]) else { throw .hostPort }
    guard let guestAddress = try? IPv4Address(parsing: String(guest[0])),
      guestAddress != .any, !guestAddress.isLoopback, !isMulticastOrBroadcast(guestAddress)
    else { throw .guestAddress }
    guard let guestPort = port(guest[1]) else { throw .guestPort }
    return PublishSpec(
      transport: transport, hostAddress: hostAddress, hostPort: hostPort,
      guestAddress: guestAddress, guestPort: guestPort)
  }

  /// The longest spec taken (`udp:255.255.255.255:65535=255.255.255.255:65535` is 45).
  public static let maximumLength = 64

  /// 1-65535 in decimal digits only (no sign, no spaces).
  private static func port(_ text: Substring) -> UInt16? {
    guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      let value = UInt16(text), value > 0
    else { return nil }
    return value
  }

  private static func isMulticastOrBroadcast(_ address: IPv4Address) -> Bool {
    address.rawValue >> 28 == 0xE || address.rawValue == 0xFFFF_FFFF
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
    case .shape: "is not \(PublishSpec.form)"
    case .hostAddress: "the host address is not a unicast IPv4 address"
    case .hostPort: "the host port is not a number from 1 to 65535"
    case .guestAddress:
      "the guest address is not a unicast IPv4 address (not 0.0.0.0, loopback or multicast)"
    case .guestPort: "the guest port is not a number from 1 to 65535"
    }
  }
}
