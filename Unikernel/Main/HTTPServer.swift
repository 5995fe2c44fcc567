import NetCore
import TCP

/// The unikernel's web server on the stack's TCP layer, polled by the main loop (no
/// concurrency runtime): `GET /` is a page naming the stack, `GET /bytes/N` sends N bytes of
/// the same repeating pattern as the daemon's `HTTPService` (so a download's checksum is the
/// same from either); `HEAD` too, anything else 404 or 405. Keep-alive and pipelining work.
public struct HTTPServer {
  let listener: TCPListenerID
  let page: [UInt8]
  let pattern: [UInt8]
  var sessions: [HTTPSession] = []

  /// Listens on `port`; `platform` names what the stack runs on, for the page.
  public init(tcp: inout TCPLayer, port: UInt16 = 80, platform: String) throws(TCPError) {
    listener = try tcp.listen(port: port, backlog: 64)
    page = Array(
      """
      <!DOCTYPE html>
      <html><head><title>netstack</title></head>
      <body><h1>netstack</h1>
      <p>This page was served by netstack, a TCP/IP stack written in Swift, running on \(platform).</p>
      <p>Try <a href="/bytes/1048576">/bytes/1048576</a> for a megabyte.</p>
      </body></html>

      """.utf8)
    let line = Array(
      "netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz\n".utf8)
    var bytes: [UInt8] = []
    while bytes.count < 256 * 1024 { bytes.append(contentsOf: line) }
    pattern = bytes
  }

  /// Connections being served.
  public var sessionCount: Int { sessions.count }

  /// Accepts new connections and moves every session as far as the TCP buffers allow.
  public mutating func run(_ tcp: inout TCPLayer, scratch: UnsafeMutableRawBufferPointer) {
    while let connection = tcp.accept(listener) {
      sessions.append(HTTPSession(connection: connection))
    }
    var index = 0
    while index < sessions.count {
      if sessions[index].step(&tcp, scratch: scratch, page: page, pattern: pattern) {
        index += 1
      } else {
        sessions.remove(at: index)
      }
    }
  }
}

/// One HTTP connection: bytes received and not yet parsed, and the response being sent.
struct HTTPSession {
  let connection: TCPConnectionID
  var received: [UInt8] = []
  /// Response bytes to send (head, and a fixed body), from `sent` on.
  var response: [UInt8] = []
  var sent = 0
  /// `/bytes/N` bytes still to generate, and where in the pattern they continue.
  var generated = 0
  var patternOffset = 0
  var closeAfterResponse = false

  init(connection: TCPConnectionID) { self.connection = connection }

  /// Reads, parses and sends what it can; false once the connection is closed and the
  /// session is over.
  mutating func step(
    _ tcp: inout TCPLayer, scratch: UnsafeMutableRawBufferPointer, page: [UInt8],
    pattern: [UInt8]
  ) -> Bool {
    guard let state = tcp.connection(connection) else { return false }
    while received.count < HTTPRequestLine.maximumHeadLength + scratch.count,
      let count = try? tcp.read(connection, into: scratch), count > 0
    {
      received.append(contentsOf: scratch[0..<count])
    }
    while true {
      if sent < response.count || generated > 0 {
        send(&tcp, pattern: pattern)
        if sent < response.count || generated > 0 { return true }
        if closeAfterResponse {
          tcp.close(connection)
          return false
        }
      }
      switch HTTPRequestLine.parse(received) {
      case .complete(let request, let length):
        received.removeFirst(length)
        respond(to: request, page: page)
      case .invalid:
        response = Self.head(status: 400, length: 0, type: nil, keepAlive: false)
        sent = 0
        closeAfterResponse = true
      case .incomplete:
        if state.isAtEndOfStream || state.error != nil {
          tcp.close(connection)
          return false
        }
        return true
      }
    }
  }

  private mutating func respond(to request: HTTPRequestLine, page: [UInt8]) {
    let isHead = request.method == Array("HEAD".utf8)
    sent = 0
    closeAfterResponse = !request.keepAlive
    guard isHead || request.method == Array("GET".utf8) else {
      response = Self.head(status: 405, length: 0, type: nil, keepAlive: request.keepAlive)
      return
    }
    if request.path == Array("/".utf8) || request.path == Array("/index.html".utf8) {
      response = Self.head(
        status: 200, length: page.count, type: "text/html; charset=utf-8",
        keepAlive: request.keepAlive)
      if !isHead { response += page }
      return
    }
    let prefix = Array("/bytes/".utf8)
    if request.path.starts(with: prefix),
      let count = Self.decimal(request.path.dropFirst(prefix.count))
    {
      response = Self.head(
        status: 200, length: count, type: "application/octet-stream",
        keepAlive: request.keepAlive)
      generated = isHead ? 0 : count
      patternOffset = 0
      return
    }
    let body = Array("not found\n".utf8)
    response = Self.head(
      status: 404, length: body.count, type: "text/plain", keepAlive: request.keepAlive)
    if !isHead { response += body }
  }

  /// Writes the response, then generated bytes, until TCP's send buffer is full.
  private mutating func send(_ tcp: inout TCPLayer, pattern: [UInt8]) {
    while sent < response.count {
      guard let count = try? tcp.write(connection, response.span.extracting(sent..<response.count)),
        count > 0
      else { return }
      sent += count
    }
    response.removeAll(keepingCapacity: true)
    sent = 0
    while generated > 0 {
      let end = min(pattern.count, patternOffset + generated)
      guard let count = try? tcp.write(connection, pattern.span.extracting(patternOffset..<end)),
        count > 0
      else { return }
      generated -= count
      patternOffset = (patternOffset + count) % pattern.count
    }
  }

  /// A response head (RFC 9112 §4).
  static func head(status: Int, length: Int, type: String?, keepAlive: Bool) -> [UInt8] {
    let reason =
      switch status {
      case 200: "OK"
      case 400: "Bad Request"
      case 404: "Not Found"
      case 405: "Method Not Allowed"
      default: "Error"
      }
    var text = "HTTP/1.1 \(status) \(reason)\r\nServer: netstack\r\nContent-Length: \(length)\r\n"
    if let type { text += "Content-Type: \(type)\r\n" }
    if !keepAlive { text += "Connection: close\r\n" }
    text += "\r\n"
    return Array(text.utf8)
  }

  /// A decimal number of at most 15 digits.
  static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty, digits.count <= 15 else { return nil }
    var value = 0
    for digit in digits {
      guard digit >= 48, digit <= 57 else { return nil }
      value = value * 10 + Int(digit - 48)
    }
    return value
  }
}
