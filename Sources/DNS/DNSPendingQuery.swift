import NetCore

/// One guest query the forwarder is asking upstream for: where the answer goes, the query
/// itself, the name servers it may try, and the try in flight.
///
/// Tries run through `servers` in order, `attempts` times round (glibc's order); a truncated
/// UDP answer adds a TCP try to the same server before the next one.
struct DNSPendingQuery {
  /// Where the query came from, and so where its answer goes.
  enum Origin: Equatable {
    /// A UDP query: the guest, the stack's address it went to, the largest answer the guest
    /// takes over UDP, and whether it spoke EDNS.
    case udp(guest: DNSEndpoint, local: DNSEndpoint, limit: Int, edns: Bool)
    case tcp(DNSGuestConnection)
  }

  enum Transport: Equatable {
    case udp
    case tcp
  }

  let origin: Origin
  /// The id the guest gave its query; the answer carries it again.
  let guestID: UInt16
  let question: DNSQuestion
  /// The guest's message, with the current try's id.
  var message: [UInt8]
  /// The name servers when the query came (a new resolv.conf affects new queries only).
  let servers: [DNSEndpoint]
  let attempts: Int
  let timeout: Interval

  /// Which try: `servers[tryIndex % servers.count]` in round `tryIndex / servers.count`.
  var tryIndex = 0
  var transport: Transport
  var socket = DNSUpstreamSocket(rawValue: 0)
  /// The random id of the try in flight (RFC 5452 §9.2).
  var upstreamID: UInt16 = 0
  var deadline = Instant.zero
  /// The answer's bytes so far, on a TCP try.
  var framer: DNSStreamFramer? = nil

  init(
    origin: Origin, guestID: UInt16, question: DNSQuestion, message: [UInt8],
    servers: [DNSEndpoint], attempts: Int, timeout: Interval
  ) {
    self.origin = origin
    self.guestID = guestID
    self.question = question
    self.message = message
    self.servers = servers
    self.attempts = attempts
    self.timeout = timeout
    transport = origin.transport
  }

  /// The server of the try in flight.
  var server: DNSEndpoint { servers[tryIndex % servers.count] }
  /// Whether a try follows the current one.
  var hasNextTry: Bool { tryIndex + 1 < servers.count * attempts }
}

extension DNSPendingQuery.Origin {
  /// How the guest asked, and so how each try starts.
  var transport: DNSPendingQuery.Transport {
    switch self {
    case .udp: .udp
    case .tcp: .tcp
    }
  }
}
