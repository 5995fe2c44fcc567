import NetCore

/// A DNS forwarder for guests (RFC 1035 §7, RFC 5452, RFC 7766), sans-IO: guests' queries and
/// upstream answers go in with `now`, actions come out (``DNSForwarderAction``), and
/// ``nextDeadline`` says when ``poll(now:)`` is due.
///
/// A guest's query (UDP with its source and the address it went to, or whole messages from a
/// TCP stream, RFC 7766 §8) is sent upstream with a fresh random id from a fresh socket that
/// the driver binds to port 0, so its source port is random too (RFC 5452 §9.2); one try at a
/// time, each with the resolv.conf timeout, through the name servers in order and `attempts`
/// rounds (glibc's order). An upstream message is taken as the answer only if it came on the
/// try's socket, from the try's server address and port, with the try's id, as a response to
/// a QUERY with the same question (RFC 5452 §9.1); anything else is counted
/// (`mismatched_answers_dropped`) and the try keeps waiting. A truncated UDP answer is asked
/// again over TCP of the same server; SERVFAIL, NOTIMP and REFUSED from a server go on to the
/// next one. The answer goes back with the guest's own id; over UDP, one larger than the guest
/// can take (512 bytes, or its EDNS size up to 4096) becomes a truncated response, so the
/// guest asks again over TCP. When every try fails the guest gets SERVFAIL.
///
/// The forwarder answers itself: SERVFAIL when no name server is configured or there is no
/// room, FORMERR for a query that does not parse (after a good header) or does not have one
/// question, NOTIMP for opcodes other than QUERY, REFUSED for zone transfers. Messages shorter
/// than a header and responses are dropped unanswered, so that no answer goes to a peer that
/// did not ask.
///
/// Endpoints (``DNSEndpoint``) are of either family: a guest's query over IPv6 may go to an
/// IPv4 name server and the other way round, and the answer goes back the way the query came.
///
/// Bounded (``DNSForwarderConfiguration``): queries waiting, upstream TCP connections, guest
/// connections and queries per connection; each message's size by its transport. Counters
/// (``DNSForwarderCounters``) say what happened.
public struct DNSForwarder<Random: RandomNumberGenerator> {
  public let configuration: DNSForwarderConfiguration
  public private(set) var counters = DNSForwarderCounters()
  /// The name servers new queries use.
  public private(set) var servers: [DNSEndpoint] = []
  /// The time a try waits.
  public private(set) var timeout: Interval
  /// Rounds over the servers.
  public private(set) var attempts: Int

  private var random: Random
  private var lastSocket: UInt64 = 0
  private var lastQuery: UInt64 = 0
  private var pending: [UInt64: DNSPendingQuery] = [:]
  /// The query each open upstream socket belongs to.
  private var socketQueries: [DNSUpstreamSocket: UInt64] = [:]
  /// UDP queries waiting, by their guest and id, to drop a guest's retransmissions.
  private var udpQueries: [UDPQueryKey: UInt64] = [:]
  private var streams: [DNSGuestConnection: DNSGuestStream] = [:]
  /// Upstream TCP connections open.
  public private(set) var upstreamTCPCount = 0

  private struct UDPQueryKey: Hashable {
    var guest: DNSEndpoint
    var id: UInt16
  }

  public init(
    configuration: DNSForwarderConfiguration = DNSForwarderConfiguration(), random: Random
  ) {
    self.configuration = configuration
    self.random = random
    timeout = configuration.timeout
    attempts = max(1, configuration.attempts)
  }

  /// Queries waiting for an answer.
  public var pendingCount: Int { pending.count }
  /// Guest TCP connections tracked.
  public var guestConnectionCount: Int { streams.count }

  /// Sets the name servers (and, when given, the timeout and attempts: resolv.conf's) for the
  /// queries that come from now on; queries already waiting keep theirs.
  public mutating func setServers(_ servers: [DNSEndpoint], timeout: Interval?, attempts: Int?) {
    self.servers = servers
    self.timeout = timeout ?? configuration.timeout
    self.attempts = max(1, attempts ?? configuration.attempts)
  }

  // MARK: Guests over UDP

  /// A datagram from `guest` to the stack's DNS address `local`.
  public mutating func receiveGuestUDP(
    _ bytes: Span<UInt8>, from guest: DNSEndpoint, to local: DNSEndpoint, now: Instant
  ) -> [DNSForwarderAction] {
    guard let header = try? DNSHeader(parsing: bytes), !header.isResponse else {
      counters.droppedMalformed += 1
      return []
    }
    guard bytes.count <= configuration.maximumUDPMessage else {
      counters.droppedOversized += 1
      return []
    }
    let origin = DNSPendingQuery.Origin.udp(
      guest: guest, local: local, limit: DNSForwarderConfiguration.classicUDPMessage, edns: false)
    let message: DNSMessage
    do {
      message = try DNSMessage(checking: bytes)
    } catch {
      counters.queriesUDP += 1
      return formatError(toUnparsed: bytes, origin: origin)
    }
    guard message.edns != nil || bytes.count <= DNSForwarderConfiguration.classicUDPMessage else {
      counters.droppedOversized += 1
      return []
    }
    counters.queriesUDP += 1
    let limit =
      message.edns.map {
        min(
          max(Int($0.udpPayloadSize), DNSForwarderConfiguration.classicUDPMessage),
          configuration.maximumUDPMessage)
      } ?? DNSForwarderConfiguration.classicUDPMessage
    return admit(
      message,
      origin: .udp(guest: guest, local: local, limit: limit, edns: message.edns != nil), now: now)
  }

  // MARK: Guests over TCP

  /// A guest opened a TCP connection to the DNS address.
  public mutating func guestConnectionOpened(_ connection: DNSGuestConnection, now: Instant)
    -> [DNSForwarderAction]
  {
    guard streams[connection] == nil else { return [] }
    guard streams.count < configuration.maximumGuestConnections else {
      counters.guestConnectionsRefused += 1
      return [.guest(.closeConnection(connection))]
    }
    streams[connection] = DNSGuestStream(
      idleDeadline: now + configuration.guestConnectionIdleTimeout)
    return []
  }

  /// Bytes a guest sent on a connection (any piece of the stream).
  public mutating func receiveGuestTCP(
    _ bytes: Span<UInt8>, connection: DNSGuestConnection, now: Instant
  ) -> [DNSForwarderAction] {
    var actions: [DNSForwarderAction] = []
    if streams[connection] == nil {
      actions = guestConnectionOpened(connection, now: now)
      guard streams[connection] != nil else { return actions }
    }
    var offset = 0
    while true {
      guard var stream = streams[connection] else { return actions }
      let next: [UInt8]?
      do {
        next = try stream.framer.nextMessage(from: bytes, offset: &offset)
      } catch {
        counters.guestStreamErrors += 1
        actions += closeGuestConnection(connection)
        return actions
      }
      guard let query = next else {
        streams[connection] = stream
        return actions
      }
      stream.idleDeadline = now + configuration.guestConnectionIdleTimeout
      streams[connection] = stream
      actions += receiveGuestTCPMessage(query, connection: connection, now: now)
    }
  }

  private mutating func receiveGuestTCPMessage(
    _ bytes: [UInt8], connection: DNSGuestConnection, now: Instant
  ) -> [DNSForwarderAction] {
    let span = bytes.span
    guard let header = try? DNSHeader(parsing: span), !header.isResponse else {
      counters.droppedMalformed += 1
      return []
    }
    counters.queriesTCP += 1
    let message: DNSMessage
    do {
      message = try DNSMessage(checking: span)
    } catch {
      return formatError(toUnparsed: span, origin: .tcp(connection))
    }
    return admit(message, origin: .tcp(connection), now: now)
  }

  /// The guest will send nothing more on the connection (it half-closed): it is closed once
  /// its queries are answered.
  public mutating func guestStreamEnded(_ connection: DNSGuestConnection, now: Instant)
    -> [DNSForwarderAction]
  {
    guard var stream = streams[connection] else { return [] }
    stream.ended = true
    streams[connection] = stream
    return stream.outstanding == 0 ? closeGuestConnection(connection) : []
  }

  /// The connection is gone (reset or closed by the stack): its queries are dropped unanswered.
  public mutating func guestConnectionClosed(_ connection: DNSGuestConnection)
    -> [DNSForwarderAction]
  {
    guard streams.removeValue(forKey: connection) != nil else { return [] }
    return cancelQueries(of: connection)
  }

  private mutating func closeGuestConnection(_ connection: DNSGuestConnection)
    -> [DNSForwarderAction]
  {
    streams[connection] = nil
    return cancelQueries(of: connection) + [.guest(.closeConnection(connection))]
  }

  private mutating func cancelQueries(of connection: DNSGuestConnection) -> [DNSForwarderAction] {
    var actions: [DNSForwarderAction] = []
    for (token, query) in pending where query.origin == .tcp(connection) {
      actions += endTry(of: query)
      pending[token] = nil
    }
    return actions
  }

  // MARK: Taking a query

  /// Answers `message` itself, or starts asking upstream.
  private mutating func admit(
    _ message: borrowing DNSMessage, origin: DNSPendingQuery.Origin, now: Instant
  ) -> [DNSForwarderAction] {
    guard message.header.opcode == .query else {
      counters.notimpsSent += 1
      return respond(DNSMessageBuilder.errorResponse(to: message, code: .notImplemented), origin)
    }
    guard message.questions.count == 1, let question = message.question else {
      counters.formerrsSent += 1
      return respond(DNSMessageBuilder.errorResponse(to: message, code: .formatError), origin)
    }
    guard question.type != .axfr, question.type != .ixfr else {
      counters.refusedSent += 1
      return respond(DNSMessageBuilder.errorResponse(to: message, code: .refused), origin)
    }
    if case .udp(let guest, _, _, _) = origin,
      let token = udpQueries[UDPQueryKey(guest: guest, id: message.header.id)],
      let earlier = pending[token], earlier.question.matches(question)
    {
      counters.droppedDuplicate += 1
      return []
    }
    var refusal: DNSResponseCode? = nil
    if servers.isEmpty {
      counters.noServers += 1
      refusal = .serverFailure
    } else if pending.count >= configuration.maximumPendingQueries {
      counters.pendingOverflows += 1
      refusal = .serverFailure
    } else if case .tcp(let connection) = origin {
      if (streams[connection]?.outstanding ?? 0) >= configuration.maximumQueriesPerConnection {
        counters.connectionQueryOverflows += 1
        refusal = .serverFailure
      } else if upstreamTCPCount >= configuration.maximumUpstreamTCP {
        counters.upstreamTCPLimited += 1
        refusal = .serverFailure
      }
    }
    if let refusal {
      counters.servfailsSent += 1
      return respond(DNSMessageBuilder.errorResponse(to: message, code: refusal), origin)
    }
    lastQuery += 1
    let token = lastQuery
    var query = DNSPendingQuery(
      origin: origin, guestID: message.header.id, question: question,
      message: message.bytes.copyToArray(), servers: servers, attempts: attempts,
      timeout: timeout)
    switch origin {
    case .udp(let guest, _, _, _):
      udpQueries[UDPQueryKey(guest: guest, id: message.header.id)] = token
    case .tcp(let connection):
      streams[connection]?.outstanding += 1
    }
    let actions = startTry(&query, now: now)
    pending[token] = query
    socketQueries[query.socket] = token
    return actions
  }

  // MARK: Tries

  /// Sends the query to its current server on its current transport, from a new socket with
  /// a new id.
  private mutating func startTry(_ query: inout DNSPendingQuery, now: Instant)
    -> [DNSForwarderAction]
  {
    lastSocket += 1
    query.socket = DNSUpstreamSocket(rawValue: lastSocket)
    query.upstreamID = UInt16(truncatingIfNeeded: random.next())
    DNSMessageBuilder.rewriteID(query.upstreamID, in: &query.message)
    query.deadline = now + query.timeout
    switch query.transport {
    case .udp:
      query.framer = nil
      counters.upstreamUDPQueries += 1
      return [
        .upstream(.sendUDP(socket: query.socket, server: query.server, message: query.message))
      ]
    case .tcp:
      query.framer = DNSStreamFramer(
        maximumMessageLength: DNSForwarderConfiguration.maximumTCPMessage)
      upstreamTCPCount += 1
      counters.upstreamTCPQueries += 1
      return [
        .upstream(
          .openTCP(
            socket: query.socket, server: query.server,
            bytes: DNSStreamFramer.framed(query.message) ?? []))
      ]
    }
  }

  /// Closes the socket of the try in flight.
  private mutating func endTry(of query: DNSPendingQuery) -> [DNSForwarderAction] {
    socketQueries[query.socket] = nil
    if query.transport == .tcp { upstreamTCPCount -= 1 }
    return [.upstream(.close(query.socket))]
  }

  /// Ends the try in flight and starts the next one, or answers SERVFAIL after the last.
  private mutating func nextTry(_ token: UInt64, now: Instant) -> [DNSForwarderAction] {
    guard var query = pending[token] else { return [] }
    var actions = endTry(of: query)
    guard query.hasNextTry else {
      counters.servfailsSent += 1
      actions += finish(token, answer: serverFailure(for: query), now: now)
      return actions
    }
    query.tryIndex += 1
    query.transport = query.origin.transport
    actions += startTry(&query, now: now)
    pending[token] = query
    socketQueries[query.socket] = token
    return actions
  }

  /// Asks the current server again over TCP (after a truncated UDP answer).
  private mutating func retryOverTCP(_ token: UInt64, now: Instant) -> [DNSForwarderAction] {
    guard var query = pending[token] else { return [] }
    var actions = endTry(of: query)
    query.transport = .tcp
    actions += startTry(&query, now: now)
    pending[token] = query
    socketQueries[query.socket] = token
    return actions
  }

  private func serverFailure(for query: DNSPendingQuery) -> [UInt8] {
    var header = DNSHeader(id: query.guestID)
    header.isResponse = true
    header.recursionAvailable = true
    header.responseCode = .serverFailure
    if let original = try? DNSHeader(parsing: query.message.span) {
      header.recursionDesired = original.recursionDesired
      header.checkingDisabled = original.checkingDisabled
    }
    let edns: Bool
    if case .udp(_, _, _, let hasEDNS) = query.origin { edns = hasEDNS } else { edns = false }
    return DNSMessageBuilder.message(
      header: header, question: query.question,
      edns: edns ? DNSEDNS(udpPayloadSize: UInt16(configuration.maximumUDPMessage)) : nil)
  }

  /// Sends `answer` (already carrying the guest's id) to the guest and forgets the query.
  private mutating func finish(_ token: UInt64, answer: [UInt8], now: Instant)
    -> [DNSForwarderAction]
  {
    guard let query = pending.removeValue(forKey: token) else { return [] }
    var actions: [DNSForwarderAction] = []
    switch query.origin {
    case .udp(let guest, _, _, _):
      let key = UDPQueryKey(guest: guest, id: query.guestID)
      if udpQueries[key] == token { udpQueries[key] = nil }
      actions += respond(answer, query.origin)
    case .tcp(let connection):
      guard var stream = streams[connection] else { return actions }
      stream.outstanding -= 1
      stream.idleDeadline = now + configuration.guestConnectionIdleTimeout
      streams[connection] = stream
      actions += respond(answer, query.origin)
      if stream.ended && stream.outstanding == 0 { actions += closeGuestConnection(connection) }
    }
    return actions
  }

  private func respond(_ message: [UInt8], _ origin: DNSPendingQuery.Origin)
    -> [DNSForwarderAction]
  {
    switch origin {
    case .udp(let guest, let local, _, _):
      return [.guest(.answerUDP(from: local, to: guest, message: message))]
    case .tcp(let connection):
      guard let bytes = DNSStreamFramer.framed(message) else { return [] }
      return [.guest(.answerTCP(connection: connection, bytes: bytes))]
    }
  }

  private mutating func formatError(toUnparsed bytes: Span<UInt8>, origin: DNSPendingQuery.Origin)
    -> [DNSForwarderAction]
  {
    guard let answer = DNSMessageBuilder.errorResponse(toUnparsed: bytes, code: .formatError)
    else { return [] }
    counters.formerrsSent += 1
    return respond(answer, origin)
  }

  // MARK: Upstream

  /// A datagram that arrived on an upstream UDP socket, from `source`.
  public mutating func receiveUpstreamUDP(
    _ bytes: Span<UInt8>, socket: DNSUpstreamSocket, from source: DNSEndpoint, now: Instant
  ) -> [DNSForwarderAction] {
    guard let token = socketQueries[socket], let query = pending[token], query.transport == .udp,
      source == query.server, bytes.count <= configuration.maximumUDPMessage,
      let answer = try? DNSMessage(checking: bytes), isAnswer(answer, to: query)
    else {
      counters.mismatchedAnswersDropped += 1
      return []
    }
    if answer.header.isTruncated {
      if upstreamTCPCount < configuration.maximumUpstreamTCP {
        counters.truncatedRetries += 1
        return retryOverTCP(token, now: now)
      }
      counters.upstreamTCPLimited += 1
    }
    return accept(answer, token: token, now: now)
  }

  /// Bytes that arrived on an upstream TCP connection.
  public mutating func receiveUpstreamTCP(
    _ bytes: Span<UInt8>, socket: DNSUpstreamSocket, now: Instant
  ) -> [DNSForwarderAction] {
    guard let token = socketQueries[socket], var query = pending[token], query.transport == .tcp,
      var framer = query.framer
    else {
      counters.mismatchedAnswersDropped += 1
      return []
    }
    var offset = 0
    let next: [UInt8]?
    do {
      next = try framer.nextMessage(from: bytes, offset: &offset)
    } catch {
      counters.mismatchedAnswersDropped += 1
      return nextTry(token, now: now)
    }
    guard let message = next else {
      query.framer = framer
      pending[token] = query
      return []
    }
    guard let answer = try? DNSMessage(checking: message.span), isAnswer(answer, to: query) else {
      // The stream carries something else: it cannot be trusted for this query.
      counters.mismatchedAnswersDropped += 1
      return nextTry(token, now: now)
    }
    return accept(answer, token: token, now: now)
  }

  /// The try on `socket` failed: the socket could not be opened, the send or connect failed,
  /// an ICMP error came back, or the TCP connection closed before the answer.
  public mutating func upstreamFailed(socket: DNSUpstreamSocket, now: Instant)
    -> [DNSForwarderAction]
  {
    guard let token = socketQueries[socket] else { return [] }
    counters.upstreamFailures += 1
    return nextTry(token, now: now)
  }

  /// Whether `answer` answers the try in flight of `query` (RFC 5452 §9.1: id and question;
  /// the socket and the server are checked by the caller).
  private func isAnswer(_ answer: borrowing DNSMessage, to query: DNSPendingQuery) -> Bool {
    guard answer.header.isResponse, answer.header.id == query.upstreamID,
      answer.header.opcode == .query, answer.questions.count == 1,
      let question = answer.question
    else { return false }
    return question.matches(query.question)
  }

  /// Passes a matched answer on, or moves to the next server after a server error.
  private mutating func accept(_ answer: borrowing DNSMessage, token: UInt64, now: Instant)
    -> [DNSForwarderAction]
  {
    guard let query = pending[token] else { return [] }
    let code = answer.header.responseCode
    if code == .serverFailure || code == .notImplemented || code == .refused, query.hasNextTry {
      counters.serverErrorsRetried += 1
      return nextTry(token, now: now)
    }
    var actions = endTry(of: query)
    counters.answers += 1
    if case .udp(_, _, let limit, let edns) = query.origin, answer.bytes.count > limit {
      counters.answersTruncatedForGuest += 1
      actions += finish(
        token,
        answer: DNSMessageBuilder.truncatedResponse(
          to: answer, id: query.guestID, withEDNS: edns,
          udpPayloadSize: UInt16(configuration.maximumUDPMessage)), now: now)
      return actions
    }
    var bytes = answer.bytes.copyToArray()
    DNSMessageBuilder.rewriteID(query.guestID, in: &bytes)
    actions += finish(token, answer: bytes, now: now)
    return actions
  }

  // MARK: Time

  /// The earliest time ``poll(now:)`` has work: a try's timeout or an idle guest connection.
  public var nextDeadline: Instant? {
    var earliest: Instant? = nil
    for query in pending.values { earliest = Instant.earliest(earliest, query.deadline) }
    for stream in streams.values where stream.outstanding == 0 {
      earliest = Instant.earliest(earliest, stream.idleDeadline)
    }
    return earliest
  }

  /// Times out the tries and idle guest connections that are due.
  public mutating func poll(now: Instant) -> [DNSForwarderAction] {
    var actions: [DNSForwarderAction] = []
    let due = pending.filter { $0.value.deadline <= now }.keys.sorted()
    for token in due {
      counters.timeouts += 1
      actions += nextTry(token, now: now)
    }
    let idle = streams.filter { $0.value.outstanding == 0 && $0.value.idleDeadline <= now }
    for connection in idle.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
      counters.guestConnectionsTimedOut += 1
      actions += closeGuestConnection(connection)
    }
    return actions
  }
}
