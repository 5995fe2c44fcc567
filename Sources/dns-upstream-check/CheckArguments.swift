import DNS

/// The command line of `dns-upstream-check`.
struct CheckArguments {
  /// How a query is asked: as a guest over UDP without EDNS, over UDP with an OPT record
  /// offering 4096 bytes, or over TCP.
  enum Transport: String {
    case udp
    case udpEDNS = "udp-edns"
    case tcp
  }

  struct Query {
    var transport: Transport
    var question: DNSQuestion
    var text: String
  }

  /// Queries asked at once; then, if `next` is set, that file is renamed over the resolv.conf
  /// path before the next phase.
  struct Phase {
    var queries: [Query] = []
    var next: String? = nil
  }

  var resolvConf = ""
  var phases: [Phase] = [Phase()]
  var deadlineSeconds: Int64 = 60

  static let usage = """
    Usage: dns-upstream-check --resolv-conf PATH [--deadline SECONDS] STEP...

    Resolves names through HostDNSUpstream (netstackd's DNS forwarder on host sockets) with the
    name servers of PATH, playing the guest itself. A STEP is
      udp:NAME[:TYPE]       a query over UDP without EDNS (TYPE A, AAAA or a number; default A)
      udp-edns:NAME[:TYPE]  over UDP with an OPT record offering 4096 bytes
      tcp:NAME[:TYPE]       over a TCP connection (two-byte length per message)
      --use FILE            once the queries before it are answered, rename FILE over PATH and
                            wait 1.1 s, so that the forwarder's next look finds the new file
    The queries between two --use are asked at once. Each prints one line when answered:
      TRANSPORT NAME TYPE: RCODE [tc] N answers[: ADDRESS ...]
    (addresses of the answer section, sorted), then the forwarder's counters that are not
    zero (dns.NAME VALUE) and how many upstream sockets are still open.
    Exit status: 0 when every query got an answer with its own id and question before the
    deadline (default 60 s), 1 otherwise, 2 for a bad command line.
    """

  init(_ arguments: [String]) throws(CheckUsageError) {
    var index = 0
    func value(_ option: String) throws(CheckUsageError) -> String {
      index += 1
      guard index < arguments.count else { throw CheckUsageError("\(option) needs a value") }
      return arguments[index]
    }
    while index < arguments.count {
      let argument = arguments[index]
      switch argument {
      case "--resolv-conf": resolvConf = try value(argument)
      case "--deadline":
        guard let seconds = Int64(try value(argument)), seconds > 0 else {
          throw CheckUsageError("--deadline needs a number of seconds")
        }
        deadlineSeconds = seconds
      case "--use":
        phases[phases.count - 1].next = try value(argument)
        phases.append(Phase())
      default:
        phases[phases.count - 1].queries.append(try CheckArguments.query(argument))
      }
      index += 1
    }
    guard !resolvConf.isEmpty else { throw CheckUsageError("--resolv-conf PATH is required") }
  }

  private static func query(_ text: String) throws(CheckUsageError) -> Query {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 2 || parts.count == 3, let transport = Transport(rawValue: parts[0])
    else { throw CheckUsageError("'\(text)' is not a step") }
    let type: DNSRecordType
    switch parts.count == 3 ? parts[2].uppercased() : "A" {
    case "A": type = .a
    case "AAAA": type = .aaaa
    case let other:
      guard let number = UInt16(other) else { throw CheckUsageError("'\(text)': unknown type") }
      type = DNSRecordType(rawValue: number)
    }
    guard let name = try? DNSName(parsing: parts[1]) else {
      throw CheckUsageError("'\(text)': not a name")
    }
    return Query(transport: transport, question: DNSQuestion(name: name, type: type), text: text)
  }
}

/// A bad command line, with what is wrong.
struct CheckUsageError: Error {
  var message: String
  init(_ message: String) { self.message = message }
}
