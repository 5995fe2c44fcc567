import NetCore

/// One HTTP/1.1 connection of an ``HTTPServer`` (RFC 9112): requests one after the other
/// (keep-alive and pipelining, RFC 9112 §9.3), each answered in full before the next is read.
///
/// A request head is found by scanning each received byte once (``HTTPHeadScanner``); a head
/// that arrives whole is parsed where it lies, one that arrives in pieces is gathered in a
/// buffer charged to the memory budget and bounded by ``HTTPServerLimits/maximumHeadLength``.
/// A request body (Content-Length) is read and dropped. Three timeouts bound what a client can
/// hold (``HTTPServerLimits``): the head's, the idle kept-alive connection's, and the response
/// that the client does not read.
public struct HTTPSession: ConnectionHandler {
  let server: HTTPServer
  public private(set) var disposition = ConnectionDisposition.open
  private var phase: Phase
  private var scanner = HTTPHeadScanner()
  /// The head received so far, when it came in more than one piece.
  private var head: [UInt8] = []
  /// What ``head`` and ``response``'s file chunk are charged.
  private var headCharge = 0
  private var chunkCharge = 0
  private var response = Response()
  /// The connection closes once the current response is sent.
  private var closeAfterResponse = false
  /// When the response last made progress (for the send timeout).
  private var lastProgress: Instant

  enum Phase {
    /// Waiting for a request's first byte; `first` for a new connection.
    case awaitingRequest(since: Instant, first: Bool)
    /// Part of a head has arrived.
    case readingHead(since: Instant)
    /// Reading and dropping the request's body before answering.
    case discardingBody(remaining: Int, request: HTTPRequestHead)
    /// Sending a response.
    case responding
    /// Done: the connection is to be closed or reset (``disposition``).
    case finished
  }

  /// A response being sent: its head, then its body.
  struct Response {
    var head: [UInt8] = []
    var headSent = 0
    var body = Body.none
  }

  enum Body {
    case none
    /// Fixed bytes (the page, an error's text), from an offset.
    case bytes([UInt8], sent: Int)
    /// `/bytes/N`: `remaining` bytes of the pattern, from `offset` in it.
    case generated(remaining: Int, offset: Int)
    /// A file, read in chunks.
    case file(HTTPFile, offset: Int, chunk: [UInt8], chunkStart: Int, chunkEnd: Int)
  }

  init(server: HTTPServer, now: Instant) {
    self.server = server
    phase = .awaitingRequest(since: now, first: true)
    lastProgress = now
  }

  // MARK: Input

  public mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    switch phase {
    case .finished:
      return bytes.count  // what a client sends after we decided to close is dropped
    case .responding:
      // The next request waits in the transport until this response is sent; after a
      // response that closes the connection, nothing more is read.
      return closeAfterResponse ? bytes.count : 0
    case .discardingBody(let remaining, let request):
      let taken = min(remaining, bytes.count)
      if taken == remaining {
        startResponse(to: request, now: now)
        send(output: &output, now: now)
      } else {
        phase = .discardingBody(remaining: remaining - taken, request: request)
      }
      lastProgress = now
      return taken
    case .awaitingRequest, .readingHead:
      return receiveHead(bytes, output: &output, now: now)
    }
  }

  /// Head bytes: find where the head ends, gather it if it comes in pieces, parse it.
  private mutating func receiveHead<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    let limit = server.limits.maximumHeadLength
    guard let end = scanner.scan(bytes) else {
      guard head.count + bytes.count <= limit else {
        reject(status: 431, now: now)
        server.counters.headsTooLarge += 1
        send(output: &output, now: now)
        return bytes.count
      }
      guard appendToHead(bytes) else { return bytes.count }
      if case .awaitingRequest = phase { phase = .readingHead(since: now) }
      return bytes.count
    }
    guard head.count + end <= limit else {
      reject(status: 431, now: now)
      server.counters.headsTooLarge += 1
      send(output: &output, now: now)
      return bytes.count
    }
    if head.isEmpty {
      parse(bytes.extracting(0..<end), now: now)
    } else {
      guard appendToHead(bytes.extracting(0..<end)) else { return bytes.count }
      let whole = head
      releaseHead()
      whole.withUnsafeBufferPointer { parse(Span(_unsafeElements: $0), now: now) }
    }
    send(output: &output, now: now)
    return end
  }

  public mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    switch phase {
    case .responding:
      closeAfterResponse = true  // answer what was asked, then close
    case .awaitingRequest, .readingHead, .discardingBody:
      finish(.close)
    case .finished:
      break
    }
  }

  /// Parses a whole head and starts answering it.
  private mutating func parse(_ bytes: Span<UInt8>, now: Instant) {
    let request: HTTPRequestHead
    do {
      request = try HTTPRequestHead(parsing: bytes)
    } catch {
      reject(status: error.status, now: now)
      return
    }
    server.counters.requests += 1
    closeAfterResponse = !request.keepAlive
    if request.contentLength > 0 {
      phase = .discardingBody(remaining: request.contentLength, request: request)
      lastProgress = now
    } else {
      startResponse(to: request, now: now)
    }
  }

  // MARK: Responses

  /// Chooses the response to a request (RFC 9110 §9.3.1 GET, §9.3.2 HEAD).
  private mutating func startResponse(to request: HTTPRequestHead, now: Instant) {
    let isHead = request.method == Array("HEAD".utf8)
    guard isHead || request.method == Array("GET".utf8) else {
      respond(status: 405, extraFields: "Allow: GET, HEAD\r\n", now: now)
      return
    }
    let path = request.path
    if path.elementsEqual("/".utf8) || path.elementsEqual("/index.html".utf8) {
      respond(
        status: 200, type: "text/html; charset=utf-8", body: server.page, omitBody: isHead,
        now: now)
      return
    }
    let prefix = Array("/bytes/".utf8)
    if path.starts(with: prefix) {
      guard let count = HTTPRequestHead.decimal(path.dropFirst(prefix.count)),
        count <= HTTPServer.maximumGeneratedBytes
      else {
        respond(status: 400, now: now)
        return
      }
      respond(status: 200, type: "application/octet-stream", length: count, now: now)
      if !isHead { response.body = .generated(remaining: count, offset: 0) }
      return
    }
    if let files = server.files, let file = files.open(String(decoding: path, as: UTF8.self)) {
      respond(status: 200, type: "application/octet-stream", length: file.size, now: now)
      if !isHead && file.size > 0 {
        guard server.budget.reserve(HTTPServer.fileChunkSize, for: .services) else {
          server.counters.refusedForMemory += 1
          finish(.abort)
          return
        }
        chunkCharge = HTTPServer.fileChunkSize
        let chunk = [UInt8](repeating: 0, count: HTTPServer.fileChunkSize)
        response.body = .file(file, offset: 0, chunk: chunk, chunkStart: 0, chunkEnd: 0)
      }
      return
    }
    respond(
      status: 404, type: "text/plain", body: Array("not found\n".utf8), omitBody: isHead, now: now)
  }

  /// Answers a request that cannot be served, and closes after the answer.
  private mutating func reject(status: Int, now: Instant) {
    releaseHead()
    closeAfterResponse = true
    respond(status: status, now: now)
  }

  /// Starts a response with a fixed body.
  private mutating func respond(
    status: Int, type: String? = nil, body: [UInt8] = [], omitBody: Bool = false,
    extraFields: String? = nil, now: Instant
  ) {
    respond(status: status, type: type, length: body.count, extraFields: extraFields, now: now)
    if !omitBody && !body.isEmpty { response.body = .bytes(body, sent: 0) }
  }

  /// Starts a response: its head, with the body's length.
  private mutating func respond(
    status: Int, type: String?, length: Int, extraFields: String? = nil, now: Instant
  ) {
    switch status {
    case 200..<300: server.counters.responses2xx += 1
    case 400..<500: server.counters.responses4xx += 1
    default: server.counters.responses5xx += 1
    }
    response = Response(
      head: HTTPResponseHead.encode(
        status: status, contentLength: length, contentType: type, extraFields: extraFields,
        close: closeAfterResponse))
    phase = .responding
    lastProgress = now
  }

  // MARK: Output

  public mutating func send<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    guard case .responding = phase else { return }
    while response.headSent < response.head.count {
      let offered = response.head.count - response.headSent
      let written = output.write(
        response.head.span.extracting(response.headSent..<response.head.count))
      response.headSent += written
      if written > 0 { lastProgress = now }
      if written < offered { return }
    }
    guard sendBody(output: &output, now: now) else { return }
    responseSent(now: now)
  }

  /// Writes body bytes until the output is full; returns whether the body is all sent.
  private mutating func sendBody<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  )
    -> Bool
  {
    switch response.body {
    case .none:
      return true
    case .bytes(let bytes, var sent):
      let written = output.write(holding: bytes[sent..<bytes.count])
      sent += written
      if written > 0 { lastProgress = now }
      response.body = .bytes(bytes, sent: sent)
      return sent == bytes.count
    case .generated(var remaining, var offset):
      let pattern = server.pattern
      while remaining > 0 {
        let length = min(pattern.count - offset, remaining)
        let written = output.write(holding: pattern[offset..<(offset + length)])
        remaining -= written
        offset = (offset + written) % pattern.count
        if written > 0 { lastProgress = now }
        if written < length { break }
      }
      response.body = .generated(remaining: remaining, offset: offset)
      return remaining == 0
    case .file(let file, var offset, var chunk, var chunkStart, var chunkEnd):
      response.body = .none  // so that `chunk` is not shared while it is refilled
      while offset < file.size {
        if chunkStart == chunkEnd {
          let wanted = min(chunk.count, file.size - offset)
          let count = chunk.withUnsafeMutableBytes {
            file.read(offset, UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted]))
          }
          guard count > 0 else {
            // The file shrank, or failed, while being sent: the length promised cannot be
            // kept, so the connection is reset.
            finish(.abort)
            return false
          }
          chunkStart = 0
          chunkEnd = count
        }
        let offered = chunkEnd - chunkStart
        let written = output.write(chunk.span.extracting(chunkStart..<chunkEnd))
        chunkStart += written
        offset += written
        if written > 0 { lastProgress = now }
        if written < offered {
          response.body = .file(
            file, offset: offset, chunk: chunk, chunkStart: chunkStart, chunkEnd: chunkEnd)
          return false
        }
      }
      releaseChunk()
      return true
    }
  }

  /// The response went out whole: close, or wait for the next request.
  private mutating func responseSent(now: Instant) {
    response = Response()
    if closeAfterResponse {
      finish(.close)
    } else {
      phase = .awaitingRequest(since: now, first: false)
    }
  }

  // MARK: Timers

  public var nextDeadline: Instant? {
    let limits = server.limits
    switch phase {
    case .awaitingRequest(let since, let first):
      return since + (first ? limits.headerTimeout : limits.keepAliveTimeout)
    case .readingHead(let since):
      return since + limits.headerTimeout
    case .discardingBody:
      return lastProgress + limits.headerTimeout
    case .responding:
      return lastProgress + limits.sendTimeout
    case .finished:
      return nil
    }
  }

  public mutating func timerExpired(now: Instant) {
    guard let deadline = nextDeadline, deadline <= now else { return }
    switch phase {
    case .awaitingRequest(_, let first):
      // Nothing was asked: close quietly (nginx does the same).
      if first {
        server.counters.headerTimeouts += 1
      } else {
        server.counters.keepAliveTimeouts += 1
      }
      finish(.close)
    case .readingHead:
      server.counters.headerTimeouts += 1
      reject(status: 408, now: now)  // RFC 9110 §15.5.9; sent at the driver's next send
    case .discardingBody:
      server.counters.headerTimeouts += 1
      finish(.close)
    case .responding:
      server.counters.sendTimeouts += 1
      finish(.abort)
    case .finished:
      break
    }
  }

  // MARK: Memory

  /// Gives back what the session holds; the driver calls it when the connection is done.
  public mutating func finish() {
    releaseHead()
    releaseChunk()
    response = Response()
  }

  /// Ends the session with `disposition`.
  private mutating func finish(_ ending: ConnectionDisposition) {
    finish()
    phase = .finished
    disposition = ending
  }

  /// Appends to the gathered head, growing it within the memory budget; false (and the
  /// connection reset) if the budget has no room.
  private mutating func appendToHead(_ bytes: Span<UInt8>) -> Bool {
    let needed = head.count + bytes.count
    if needed > head.capacity {
      let capacity = min(max(needed, head.capacity * 2, 256), server.limits.maximumHeadLength)
      let charge = capacity + HTTPSession.allocationOverhead
      guard server.budget.reserve(max(charge - headCharge, 0), for: .services) else {
        server.counters.refusedForMemory += 1
        finish(.abort)
        return false
      }
      headCharge = max(charge, headCharge)
      head.reserveCapacity(capacity)
    }
    for index in 0..<bytes.count { head.append(bytes[index]) }
    return true
  }

  private mutating func releaseHead() {
    head = []
    if headCharge > 0 {
      server.budget.release(headCharge, for: .services)
      headCharge = 0
    }
  }

  private mutating func releaseChunk() {
    if case .file = response.body { response.body = .none }
    if chunkCharge > 0 {
      server.budget.release(chunkCharge, for: .services)
      chunkCharge = 0
    }
  }

  /// What an allocation costs beyond its bytes.
  static let allocationOverhead = 64
}
