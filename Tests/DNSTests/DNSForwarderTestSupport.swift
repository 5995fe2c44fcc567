import DNS
import NetCore

/// Addresses, a forwarder and helpers for the forwarder's tests.
enum ForwarderFixture {
  static let guest = DNSEndpoint(IPv4Address(10, 0, 2, 15), 40000)
  static let local = DNSEndpoint(IPv4Address(10, 0, 2, 3), 53)
  static let first = DNSEndpoint(IPv4Address(10, 53, 0, 1), 53)
  static let second = DNSEndpoint(IPv4Address(10, 53, 0, 2), 53)
  static let start = Instant(nanoseconds: 1_000_000_000_000)

  static func forwarder(
    servers: [DNSEndpoint] = [first, second],
    configure: (inout DNSForwarderConfiguration) -> Void = { _ in }
  ) -> DNSForwarder<PseudoRandomGenerator> {
    var configuration = DNSForwarderConfiguration()
    configure(&configuration)
    var forwarder = DNSForwarder(
      configuration: configuration, random: PseudoRandomGenerator(seed: 1))
    forwarder.setServers(servers, timeout: nil, attempts: nil)
    return forwarder
  }

  /// A query for `name` with `id` (and an OPT record offering `edns` bytes, if given).
  static func query(_ name: String, _ type: DNSRecordType = .a, id: UInt16, edns: UInt16? = nil)
    -> [UInt8]
  {
    let question = DNSQuestion(name: try! DNSName(parsing: name), type: type)
    return DNSMessageBuilder.query(
      id: id, question: question, edns: edns.map { DNSEDNS(udpPayloadSize: $0) })
  }

  /// `message` with its id replaced.
  static func with(id: UInt16, _ message: [UInt8]) -> [UInt8] {
    var copy = message
    DNSMessageBuilder.rewriteID(id, in: &copy)
    return copy
  }

  static func id(of message: [UInt8]) -> UInt16 { UInt16(message[0]) << 8 | UInt16(message[1]) }

  /// A header-only response to `query` (its id and question) with `code`.
  static func response(to query: [UInt8], code: DNSResponseCode, truncated: Bool = false) -> [UInt8]
  {
    let message = try! DNSMessage(checking: query.span)
    var bytes = DNSMessageBuilder.errorResponse(to: message, code: code)
    if truncated { bytes[2] |= 0x02 }
    return bytes
  }
}

/// The one UDP send among `actions`, if there is exactly one.
func udpSend(_ actions: [DNSForwarderAction]) -> (
  socket: DNSUpstreamSocket, server: DNSEndpoint, message: [UInt8]
)? {
  let sends = actions.compactMap { action -> (DNSUpstreamSocket, DNSEndpoint, [UInt8])? in
    if case .upstream(.sendUDP(let socket, let server, let message)) = action {
      return (socket, server, message)
    }
    return nil
  }
  return sends.count == 1 ? sends[0] : nil
}

/// The one TCP open among `actions`, if there is exactly one; `message` is without the length.
func tcpOpen(_ actions: [DNSForwarderAction]) -> (
  socket: DNSUpstreamSocket, server: DNSEndpoint, message: [UInt8]
)? {
  let opens = actions.compactMap { action -> (DNSUpstreamSocket, DNSEndpoint, [UInt8])? in
    if case .upstream(.openTCP(let socket, let server, let bytes)) = action {
      guard bytes.count >= 2, Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2 else {
        return nil
      }
      return (socket, server, Array(bytes[2...]))
    }
    return nil
  }
  return opens.count == 1 ? opens[0] : nil
}

/// The sockets `actions` close.
func closed(_ actions: [DNSForwarderAction]) -> [DNSUpstreamSocket] {
  actions.compactMap { if case .upstream(.close(let socket)) = $0 { socket } else { nil } }
}

/// The UDP answers among `actions`.
func udpAnswers(_ actions: [DNSForwarderAction]) -> [[UInt8]] {
  actions.compactMap { action -> [UInt8]? in
    if case .guest(.answerUDP(let from, let to, let message)) = action,
      from == ForwarderFixture.local, to == ForwarderFixture.guest
    {
      return message
    }
    return nil
  }
}

/// The TCP answers to `connection` among `actions`, without their length prefix.
func tcpAnswers(_ actions: [DNSForwarderAction], _ connection: DNSGuestConnection) -> [[UInt8]] {
  actions.compactMap { action -> [UInt8]? in
    if case .guest(.answerTCP(let to, let bytes)) = action, to == connection, bytes.count >= 2,
      Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2
    {
      return Array(bytes[2...])
    }
    return nil
  }
}
