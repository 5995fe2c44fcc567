import CLinuxShims
import DNS
import Glibc
import LinuxRuntime
import NetCore

/// One run of `dns-upstream-check`: the phases of queries, asked through a ``HostDNSUpstream``
/// as a guest would ask the stack, and their answers checked and printed.
final class CheckRun {
  let arguments: CheckArguments
  let loop: EventLoop
  let upstream: HostDNSUpstream
  let timer: LoopTimer
  let deadline: Instant

  /// The guest's addresses: its own and the stack's DNS address.
  static let guestAddress = IPv4Address(10, 0, 2, 15)
  static let local = DNSEndpoint(IPv4Address(10, 0, 2, 3), 53)

  /// A query in flight: the phase's index of it, its id and what came back.
  struct Asked {
    var query: CheckArguments.Query
    var id: UInt16
    var line: String? = nil
    var good = false
  }
  private var phase = 0
  private var asked: [Asked] = []
  private var streams: [DNSGuestConnection: DNSStreamFramer] = [:]
  /// When the next phase starts (after a --use), if one waits.
  private var nextPhaseAt: Instant? = nil
  private(set) var failures = 0
  private var lastID: UInt16 = 0x4000

  init(arguments: CheckArguments) throws(SystemError) {
    self.arguments = arguments
    loop = try EventLoop()
    upstream = try HostDNSUpstream(
      loop: loop, resolvConfPath: arguments.resolvConf, logger: Logger(level: .debug))
    timer = try LoopTimer()
    deadline = MonotonicClock.now() + .seconds(arguments.deadlineSeconds)
    upstream.onGuestAction = { [unowned self] action in guestAction(action) }
    try loop.register(timer.fileDescriptor, events: UInt32(EPOLLIN.rawValue)) {
      [unowned self] _ in
      timer.acknowledge()
      tick()
    }
    timer.arm(at: deadline)
  }

  /// Runs every phase; returns the exit status.
  func run() throws(SystemError) -> Int32 {
    startPhase()
    try loop.run()
    for entry in asked where entry.line == nil {
      print("\(label(entry.query)): no answer")
      failures += 1
    }
    upstream.counters.forEachCounter { name, value in
      if value > 0 { print("dns.\(name) \(value)") }
    }
    print("upstream sockets open: \(upstream.openSockets)")
    upstream.shutdown()
    return failures == 0 ? 0 : 1
  }

  private func tick() {
    let now = MonotonicClock.now()
    if now >= deadline {
      print("deadline of \(arguments.deadlineSeconds) s passed")
      loop.stop()
      return
    }
    if let start = nextPhaseAt, start <= now {
      nextPhaseAt = nil
      startPhase()
    }
    timer.arm(at: Instant.earliest(nextPhaseAt, deadline))
  }

  private func startPhase() {
    guard phase < arguments.phases.count else {
      loop.stop()
      return
    }
    let queries = arguments.phases[phase].queries
    let first = asked.count
    for query in queries {
      lastID &+= 1
      asked.append(Asked(query: query, id: lastID))
    }
    if queries.isEmpty {
      phaseDone()
      return
    }
    for index in first..<asked.count { ask(index) }
  }

  private func ask(_ index: Int) {
    let entry = asked[index]
    let edns = entry.query.transport == .udpEDNS ? DNSEDNS(udpPayloadSize: 4096) : nil
    let message = DNSMessageBuilder.query(id: entry.id, question: entry.query.question, edns: edns)
    switch entry.query.transport {
    case .udp, .udpEDNS:
      let guest = DNSEndpoint(CheckRun.guestAddress, UInt16(30000 + index))
      upstream.receiveGuestUDP(message.span, from: guest, to: CheckRun.local)
    case .tcp:
      let connection = DNSGuestConnection(rawValue: UInt64(index))
      streams[connection] = DNSStreamFramer()
      upstream.guestConnectionOpened(connection)
      let framed = DNSStreamFramer.framed(message) ?? []
      upstream.receiveGuestTCP(framed.span, connection: connection)
    }
  }

  private func guestAction(_ action: DNSGuestAction) {
    switch action {
    case .answerUDP(let from, let to, let message):
      guard from == CheckRun.local, to.address == .v4(CheckRun.guestAddress), to.port >= 30000
      else {
        print("an answer from \(from) to \(to)")
        failures += 1
        return
      }
      answered(Int(to.port) - 30000, message)
    case .answerTCP(let connection, let bytes):
      guard var framer = streams[connection] else { return }
      var offset = 0
      while let message = try? framer.nextMessage(from: bytes.span, offset: &offset) {
        answered(Int(connection.rawValue), message)
      }
      streams[connection] = framer
    case .closeConnection(let connection):
      streams[connection] = nil
    }
  }

  private func answered(_ index: Int, _ bytes: [UInt8]) {
    guard index < asked.count, asked[index].line == nil else {
      print("an answer for no query (\(index))")
      failures += 1
      return
    }
    let entry = asked[index]
    let label = label(entry.query)
    do {
      let message = try DNSMessage(checking: bytes.span)
      guard message.header.isResponse, message.header.id == entry.id,
        message.questions.count == 1, message.question?.matches(entry.query.question) == true
      else {
        asked[index].line = "\(label): an answer with another id or question"
        failures += 1
        print(asked[index].line!)
        return phaseProgress()
      }
      var addresses: [String] = []
      var count = 0
      try message.forEachRecord { record in
        guard record.section == .answer else { return }
        count += 1
        let data = message.data(of: record)
        if record.type == .a && data.count == 4 {
          addresses.append(IPv4Address(data, at: 0).description)
        } else if record.type == .aaaa && data.count == 16 {
          var groups: [String] = []
          for group in 0..<8 {
            groups.append(
              String(UInt16(data[2 * group]) << 8 | UInt16(data[2 * group + 1]), radix: 16))
          }
          addresses.append(groups.joined(separator: ":"))
        }
      }
      addresses.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      let truncated = message.header.isTruncated ? " tc" : ""
      let list = addresses.isEmpty ? "" : ": " + addresses.joined(separator: " ")
      asked[index].line = "\(label): \(message.responseCode)\(truncated) \(count) answers\(list)"
      asked[index].good = true
    } catch {
      asked[index].line = "\(label): malformed answer (\(error))"
      failures += 1
    }
    print(asked[index].line!)
    phaseProgress()
  }

  private func phaseProgress() {
    if asked.allSatisfy({ $0.line != nil }) { phaseDone() }
  }

  private func phaseDone() {
    let next = arguments.phases[phase].next
    phase += 1
    guard let file = next else {
      startPhase()
      return
    }
    guard rename(file, arguments.resolvConf) == 0 else {
      print("cannot rename \(file) to \(arguments.resolvConf): \(String(cString: strerror(errno)))")
      failures += 1
      loop.stop()
      return
    }
    print("now using \(file) as \(arguments.resolvConf)")
    nextPhaseAt = MonotonicClock.now() + .milliseconds(1100)
    timer.arm(at: nextPhaseAt)
  }

  /// `udp www.test. A`: how and what a query asks.
  private func label(_ query: CheckArguments.Query) -> String {
    "\(query.transport.rawValue) \(query.question.name) \(typeName(query.question.type))"
  }

  private func typeName(_ type: DNSRecordType) -> String {
    switch type {
    case .a: "A"
    case .aaaa: "AAAA"
    default: "TYPE\(type.rawValue)"
    }
  }
}
