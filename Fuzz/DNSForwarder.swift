// Fuzz target: the DNS forwarder's guest input (Sources/DNS/DNSForwarder.swift and
// DNSStreamFramer.swift): everything a guest can send to the stack's DNS address, over UDP and
// TCP, with upstream servers that answer well, truncate, fail, lie about the id, or say nothing.
//
// Input: the bytes a guest sends on one TCP connection (a two-byte length before each message,
// as Fuzz/capture-dns writes its TCP seeds). The same messages, as a reference cuts them, are also
// sent as UDP datagrams, each from its own port (the first 64). The stream is fed in pieces whose
// sizes, and what each upstream server does with each query, come from a hash of the input.
// Checks: nothing traps; every upstream socket is opened once, closed once, and only used while
// open; every upstream message parses and fits its transport; every answer to a guest parses, is
// a response, and over UDP carries that guest's id and fits its size (512, or its EDNS size up to
// 4096); a UDP guest gets at most one answer per query, and once every deadline has passed every
// UDP query not dropped as a repeat has exactly one; TCP answers are framed; the bounds hold
// (queries waiting, upstream TCP connections); at the end nothing waits and no socket is open.

import DNS
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = Array(UnsafeBufferPointer(start: data, count: size))
  var hash: UInt64 = 0xCBF2_9CE4_8422_2325
  for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
  var choices = SplitMix64(state: hash)

  var configuration = DNSForwarderConfiguration()
  configuration.maximumPendingQueries = 8
  configuration.maximumUpstreamTCP = 2
  configuration.maximumQueriesPerConnection = 4
  var forwarder = DNSForwarder(
    configuration: configuration, random: PseudoRandomGenerator(seed: hash))
  let servers = [
    // Both families, as resolv.conf may mix them.
    DNSEndpoint(IPv4Address(10, 53, 0, 1), 53),
    DNSEndpoint(IPv6Address(0xFD01, 0, 0, 0, 0, 0, 0, 2), 53),
  ]
  forwarder.setServers(servers, timeout: .seconds(5), attempts: 2)
  let local = DNSEndpoint(IPv4Address(10, 0, 2, 3), 53)
  let guest = IPv4Address(10, 0, 2, 15)
  let connection = DNSGuestConnection(rawValue: 1)
  var now = Instant(nanoseconds: 1_000_000_000)

  var open: [DNSUpstreamSocket: (server: DNSEndpoint, tcp: Bool, message: [UInt8])] = [:]
  var everOpened: Set<DNSUpstreamSocket> = []
  var waiting: [DNSUpstreamSocket] = []
  var guestIDs: [UInt16: (id: UInt16, limit: Int)] = [:]
  var udpAnswers: [UInt16: Int] = [:]
  var connectionClosed = false

  func handle(_ actions: [DNSForwarderAction]) {
    for action in actions {
      switch action {
      case .upstream(.sendUDP(let socket, let server, let message)):
        expect(!everOpened.contains(socket), "a socket opened twice")
        expect(servers.contains(server), "an unknown server")
        expect(
          message.count <= 4096 && (try? DNSMessage(checking: message.span)) != nil, "bad UDP query"
        )
        everOpened.insert(socket)
        open[socket] = (server, false, message)
        waiting.append(socket)
      case .upstream(.openTCP(let socket, let server, let bytes)):
        expect(!everOpened.contains(socket), "a socket opened twice")
        expect(
          bytes.count >= 2 && Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2, "TCP framing")
        let message = Array(bytes.dropFirst(2))
        expect((try? DNSMessage(checking: message.span)) != nil, "bad TCP query")
        everOpened.insert(socket)
        open[socket] = (server, true, message)
        waiting.append(socket)
      case .upstream(.close(let socket)):
        expect(open.removeValue(forKey: socket) != nil, "closing a socket that is not open")
      case .guest(.answerUDP(let from, let to, let message)):
        expect(from == local && to.address == .v4(guest), "UDP answer addresses")
        guard let asked = guestIDs[to.port] else {
          expect(false, "a UDP answer to a port that asked nothing")
          return
        }
        guard let answer = try? DNSMessage(checking: message.span) else {
          expect(false, "a UDP answer that does not parse")
          return
        }
        expect(answer.header.isResponse && answer.header.id == asked.id, "UDP answer id")
        expect(message.count <= asked.limit, "a UDP answer larger than the guest takes")
        udpAnswers[to.port, default: 0] += 1
        expect(udpAnswers[to.port]! == 1, "two answers to one UDP query")
      case .guest(.answerTCP(let to, let bytes)):
        expect(to == connection && !connectionClosed, "TCP answer on a closed connection")
        expect(
          bytes.count >= 14 && Int(bytes[0]) << 8 | Int(bytes[1]) == bytes.count - 2,
          "TCP answer framing")
        let message = Array(bytes.dropFirst(2))
        let answer = try? DNSMessage(checking: message.span)
        expect(answer?.header.isResponse == true, "a TCP answer that is no response")
      case .guest(.closeConnection(let closed)):
        expect(closed == connection, "closing another connection")
        connectionClosed = true
      }
      expect(forwarder.pendingCount <= configuration.maximumPendingQueries, "pending bound")
      expect(forwarder.upstreamTCPCount <= configuration.maximumUpstreamTCP, "upstream TCP bound")
    }
  }

  /// Each waiting upstream query gets what the hash says: an answer, a truncated one, SERVFAIL,
  /// the wrong id, a failure, or nothing.
  func answerUpstream() {
    while !waiting.isEmpty {
      let socket = waiting.removeFirst()
      guard let query = open[socket], let parsed = try? DNSMessage(checking: query.message.span)
      else { continue }
      let choice = choices.next() % 6
      var answer = DNSMessageBuilder.errorResponse(
        to: parsed, code: choice == 2 ? .serverFailure : .noError)
      if choice == 1 { answer[2] |= 0x02 }
      if choice == 3 { answer[1] ^= 0x5A }
      switch choice {
      case 4: handle(forwarder.upstreamFailed(socket: socket, now: now))
      case 5: break
      default:
        if query.tcp {
          let framed = DNSStreamFramer.framed(answer) ?? []
          let cut = Int(choices.next() % UInt64(framed.count + 1))
          handle(forwarder.receiveUpstreamTCP(Array(framed[..<cut]).span, socket: socket, now: now))
          handle(forwarder.receiveUpstreamTCP(Array(framed[cut...]).span, socket: socket, now: now))
        } else {
          handle(
            forwarder.receiveUpstreamUDP(answer.span, socket: socket, from: query.server, now: now))
        }
      }
    }
  }

  // The messages as UDP datagrams, each from its own port.
  var offset = 0
  var port: UInt16 = 10000
  while offset + 2 <= input.count, port < 10064 {
    let length = Int(input[offset]) << 8 | Int(input[offset + 1])
    let message = Array(input[(offset + 2)..<min(input.count, offset + 2 + length)])
    offset += 2 + length
    var limit = 512
    if let parsed = try? DNSMessage(checking: message.span), let edns = parsed.edns {
      limit = min(max(Int(edns.udpPayloadSize), 512), 4096)
    }
    guestIDs[port] = (message.count >= 2 ? UInt16(message[0]) << 8 | UInt16(message[1]) : 0, limit)
    handle(
      forwarder.receiveGuestUDP(message.span, from: DNSEndpoint(guest, port), to: local, now: now))
    port += 1
    answerUpstream()
  }

  // The stream, in pieces.
  handle(forwarder.guestConnectionOpened(connection, now: now))
  offset = 0
  while offset < input.count, !connectionClosed {
    let piece = min(input.count - offset, 1 + Int(choices.next() % 64))
    handle(
      forwarder.receiveGuestTCP(
        Array(input[offset..<(offset + piece)]).span, connection: connection, now: now))
    offset += piece
    answerUpstream()
  }
  if !connectionClosed { handle(forwarder.guestStreamEnded(connection, now: now)) }

  // Time passes until nothing waits: every try of every query ends within a few timeouts.
  for _ in 0..<40 {
    guard let deadline = forwarder.nextDeadline else { break }
    now = max(now, deadline)
    handle(forwarder.poll(now: now))
    answerUpstream()
  }
  expect(forwarder.pendingCount == 0 && forwarder.nextDeadline == nil, "queries left waiting")
  expect(open.isEmpty && forwarder.upstreamTCPCount == 0, "upstream sockets left open")
  expect(forwarder.guestConnectionCount == 0 && connectionClosed, "the connection was not closed")
  let answered = udpAnswers.values.reduce(0, +)
  let counters = forwarder.counters
  expect(
    UInt64(answered) == counters.queriesUDP - counters.droppedDuplicate,
    "UDP answers \(answered), queries \(counters.queriesUDP), repeats \(counters.droppedDuplicate)")
  return 0
}
