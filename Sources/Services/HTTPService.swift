import HTTPContent
import NetworkAPI

/// A small HTTP/1.1 server (RFC 9110, RFC 9112) with keep-alive and pipelined requests:
///
/// - `GET /` returns a page naming the stack that serves it;
/// - `GET /bytes/N` streams N bytes (for downloads of any size without files);
/// - with a file source (`netstackd --http-root DIR`), `GET /path` serves that file with its
///   Content-Length.
///
/// `HEAD` works for all of them; other methods get 405.
public struct HTTPService<Files: HTTPFileSource>: Sendable {
  public let port: UInt16
  public let files: Files?

  public init(port: UInt16 = 80, files: Files?) {
    self.port = port
    self.files = files
  }

  /// The largest `/bytes/N`.
  static var maximumGeneratedBytes: Int { 1 << 40 }

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let listener = try await stack.listen(port: port, backlog: 4096)
    let page = HTTPContent.page(for: stack.stackDescription)
    let pattern = HTTPContent.pattern()
    await acceptLoop(listener) { connection in
      await serve(connection, page: page, pattern: pattern)
    }
  }

  /// Answers requests on one connection until it closes or a response ends it.
  func serve<Connection: TCPConnectionHandle>(
    _ connection: Connection, page: [UInt8], pattern: [UInt8]
  ) async {
    var received: [UInt8] = []
    var scratch = GrowingReadBuffer(limit: 16 * 1024)
    do {
      requests: while true {
        var request: HTTPRequest
        switch HTTPRequest.parse(received[...]) {
        case .complete(let parsed, let consumed):
          request = parsed
          received.removeFirst(consumed)
        case .incomplete:
          let count = try await scratch.read(from: connection)
          if count == 0 { break requests }
          received.append(contentsOf: scratch.bytes[0..<count])
          continue
        case .invalid(let status):
          try await connection.write(
            Self.head(status: status, length: 0, keepAlive: false, type: nil))
          break requests
        }
        // A body (not expected for GET) is read and dropped.
        guard var remaining = request.contentLength else {
          try await connection.write(Self.head(status: 400, length: 0, keepAlive: false, type: nil))
          break requests
        }
        let buffered = min(remaining, received.count)
        received.removeFirst(buffered)
        remaining -= buffered
        while remaining > 0 {
          let count = try await scratch.read(from: connection)
          if count == 0 { break requests }
          let used = min(count, remaining)
          remaining -= used
          if count > used { received.append(contentsOf: scratch.bytes[used..<count]) }
        }
        let keepAlive = request.keepAlive
        try await respond(
          to: &request, on: connection, keepAlive: keepAlive, page: page, pattern: pattern)
        if !keepAlive { break }
      }
      try await connection.shutdownWrite()
    } catch {}
    await connection.close()
  }

  private func respond<Connection: TCPConnectionHandle>(
    to request: inout HTTPRequest, on connection: Connection, keepAlive: Bool, page: [UInt8],
    pattern: [UInt8]
  ) async throws(NetworkError) {
    let head = request.method == "HEAD"
    guard request.method == "GET" || head else {
      var response = Self.head(
        status: 405, length: 0, keepAlive: keepAlive, type: nil, extra: "Allow: GET, HEAD\r\n")
      response.append(contentsOf: [])
      try await connection.write(response)
      return
    }
    let path = request.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
    if path == "/" || path == "/index.html" {
      var response = Self.head(
        status: 200, length: page.count, keepAlive: keepAlive, type: "text/html; charset=utf-8")
      if !head { response.append(contentsOf: page) }
      try await connection.write(response)
      return
    }
    if path.hasPrefix("/bytes/") {
      guard let count = Int(path.dropFirst("/bytes/".count)), count >= 0,
        count <= Self.maximumGeneratedBytes
      else {
        try await connection.write(
          Self.head(status: 400, length: 0, keepAlive: keepAlive, type: nil))
        return
      }
      try await connection.write(
        Self.head(
          status: 200, length: count, keepAlive: keepAlive, type: "application/octet-stream"))
      if head { return }
      var sent = 0
      while sent < count {
        let length = min(pattern.count, count - sent)
        try await connection.write(pattern[0..<length])
        sent += length
      }
      return
    }
    if let files, let file = files.file(at: path) {
      try await connection.write(
        Self.head(
          status: 200, length: file.size, keepAlive: keepAlive, type: "application/octet-stream"))
      if head { return }
      var buffer = [UInt8](repeating: 0, count: 256 * 1024)
      var offset = 0
      while offset < file.size {
        let count = file.read(offset: offset, into: &buffer)
        guard count > 0 else { throw .other("file shrank while being sent") }
        try await connection.write(buffer[0..<count])
        offset += count
      }
      return
    }
    let body = Array("not found\n".utf8)
    var response = Self.head(
      status: 404, length: body.count, keepAlive: keepAlive, type: "text/plain")
    if !head { response.append(contentsOf: body) }
    try await connection.write(response)
  }

  /// A response head.
  static func head(status: Int, length: Int, keepAlive: Bool, type: String?, extra: String = "")
    -> [UInt8]
  {
    var text =
      "HTTP/1.1 \(status) \(reason(status))\r\nServer: netstack\r\nContent-Length: \(length)\r\n"
    if let type { text += "Content-Type: \(type)\r\n" }
    text += extra
    text += keepAlive ? "" : "Connection: close\r\n"
    text += "\r\n"
    return Array(text.utf8)
  }

  static func reason(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 400: "Bad Request"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 431: "Request Header Fields Too Large"
    case 505: "HTTP Version Not Supported"
    default: "Error"
    }
  }

}

/// Where the HTTP service finds files (the daemon's `--http-root`).
public protocol HTTPFileSource: Sendable {
  associatedtype File: HTTPFile
  /// The regular file at a request path (`/dir/name`), or nil; never outside the root.
  func file(at path: String) -> File?
}

/// A file the HTTP service sends.
public protocol HTTPFile {
  var size: Int { get }
  /// Reads up to `buffer.count` bytes at `offset`; returns how many (0 at the end).
  func read(offset: Int, into buffer: inout [UInt8]) -> Int
}

/// No files: the HTTP service without `--http-root`.
public struct NoFiles: HTTPFileSource {
  public struct File: HTTPFile {
    public var size: Int { 0 }
    public func read(offset: Int, into buffer: inout [UInt8]) -> Int { 0 }
  }
  public init() {}
  public func file(at path: String) -> File? { nil }
}
