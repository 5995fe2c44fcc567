import NetCore

/// What every connection of one HTTP service shares: what it serves, its limits and timeouts,
/// the memory budget its buffers are charged to, and its counters. Each connection is an
/// ``HTTPSession`` made by ``makeSession(now:)``.
///
/// It serves `GET /` (a page naming the stack), `GET /bytes/N` (N bytes of a fixed pattern,
/// for downloads of any size without files) and, with ``files``, the files of a directory;
/// `HEAD` for each; 405 for other methods (RFC 9110 §9.1).
public final class HTTPServer {
  /// The page at `/` and `/index.html`.
  public let page: [UInt8]
  /// What `/bytes/N` repeats.
  public let pattern: [UInt8]
  /// Where other paths are looked up, if anywhere.
  public let files: HTTPFiles?
  /// Its limits and timeouts.
  public let limits: HTTPServerLimits
  /// Where request heads and file chunks are charged, as `MemoryBudget/Use/services`.
  public let budget: MemoryBudget
  /// What its connections did, summed.
  public internal(set) var counters = HTTPServerCounters()

  /// The largest `/bytes/N`.
  public static let maximumGeneratedBytes = 1 << 40
  /// The chunk a file is read in.
  static let fileChunkSize = 64 * 1024

  /// A server whose page names `platform` (what the stack runs on).
  public init(
    platform: String, files: HTTPFiles? = nil, limits: HTTPServerLimits = HTTPServerLimits(),
    budget: MemoryBudget
  ) {
    page = HTTPContent.page(for: platform)
    pattern = HTTPContent.pattern()
    self.files = files
    self.limits = limits
    self.budget = budget
  }

  /// The handler of a connection accepted `now`.
  public func makeSession(now: Instant) -> HTTPSession {
    HTTPSession(server: self, now: now)
  }
}

/// The HTTP service's limits and timeouts; the defaults are nginx's.
public struct HTTPServerLimits: Equatable, Sendable {
  /// The longest request head (request line and fields) accepted; a longer one is answered
  /// 431 (RFC 6585 §5) and the connection closed.
  public var maximumHeadLength = 16 * 1024
  /// How long a request head may take to arrive, from its first byte (or from the connection's
  /// start, for its first request): nginx's `client_header_timeout`. Past it: 408 and close.
  public var headerTimeout = Interval.seconds(60)
  /// How long a kept-alive connection may wait for its next request: nginx's
  /// `keepalive_timeout`. Past it the connection is closed.
  public var keepAliveTimeout = Interval.seconds(75)
  /// How long a response may make no progress (the client reads nothing): nginx's
  /// `send_timeout`. Past it the connection is reset.
  public var sendTimeout = Interval.seconds(60)

  public init() {}
}

/// What an HTTP service did.
public struct HTTPServerCounters: CounterGroup, Equatable, Sendable {
  public static let groupName: StaticString = "http"

  public var requests: UInt64 = 0
  public var responses2xx: UInt64 = 0
  public var responses4xx: UInt64 = 0
  public var responses5xx: UInt64 = 0
  /// Heads longer than the limit (431).
  public var headsTooLarge: UInt64 = 0
  /// Connections closed because a head took too long (408).
  public var headerTimeouts: UInt64 = 0
  /// Kept-alive connections closed for idleness.
  public var keepAliveTimeouts: UInt64 = 0
  /// Connections reset because the client read nothing for the send timeout.
  public var sendTimeouts: UInt64 = 0
  /// Connections closed because the memory budget had no room for their request head.
  public var refusedForMemory: UInt64 = 0

  public init() {}

  /// The two services' counts together.
  public static func + (lhs: HTTPServerCounters, rhs: HTTPServerCounters) -> HTTPServerCounters {
    var sum = lhs
    sum.requests += rhs.requests
    sum.responses2xx += rhs.responses2xx
    sum.responses4xx += rhs.responses4xx
    sum.responses5xx += rhs.responses5xx
    sum.headsTooLarge += rhs.headsTooLarge
    sum.headerTimeouts += rhs.headerTimeouts
    sum.keepAliveTimeouts += rhs.keepAliveTimeouts
    sum.sendTimeouts += rhs.sendTimeouts
    sum.refusedForMemory += rhs.refusedForMemory
    return sum
  }

  public func forEachCounter(_ body: (StaticString, UInt64) -> Void) {
    body("requests", requests)
    body("responses_2xx", responses2xx)
    body("responses_4xx", responses4xx)
    body("responses_5xx", responses5xx)
    body("heads_too_large", headsTooLarge)
    body("header_timeouts", headerTimeouts)
    body("keepalive_timeouts", keepAliveTimeouts)
    body("send_timeouts", sendTimeouts)
    body("refused_for_memory", refusedForMemory)
  }
}
