/// An HTTP/1.x request head, parsed from bytes (RFC 9112 §3 request line, §5 header fields),
/// with strict limits: the whole head must fit in ``maximumHeadLength`` bytes.
public struct HTTPRequest: Equatable, Sendable {
  public var method: String
  /// The request target as sent (origin form: `/path?query`).
  public var target: String
  /// 0 for HTTP/1.0, 1 for HTTP/1.1.
  public var minorVersion: Int
  /// Header fields in order, names lowercased.
  public var headers: [(name: String, value: String)]

  /// The longest request head accepted (request line and headers).
  public static let maximumHeadLength = 16 * 1024

  public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
    lhs.method == rhs.method && lhs.target == rhs.target && lhs.minorVersion == rhs.minorVersion
      && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
  }

  /// The first value of a header (name in lower case).
  public func header(_ name: String) -> String? {
    headers.first { $0.name == name }?.value
  }

  /// Whether the connection stays open after the response (RFC 9112 §9.3): HTTP/1.1 unless
  /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
  public var keepAlive: Bool {
    let connection = header("connection")?.lowercased() ?? ""
    if minorVersion >= 1 { return !connection.contains("close") }
    return connection.contains("keep-alive")
  }

  /// The body length announced by Content-Length (0 without one); nil if it is malformed.
  public var contentLength: Int? {
    guard let value = header("content-length") else { return 0 }
    guard let length = Int(value), length >= 0 else { return nil }
    return length
  }

  /// The outcome of looking for a request at the front of received bytes.
  public enum ParseResult: Equatable, Sendable {
    /// A whole head, and the bytes it took.
    case complete(HTTPRequest, consumed: Int)
    /// More bytes are needed.
    case incomplete
    /// Not HTTP, or over a limit: answer with this status and close.
    case invalid(status: Int)
  }

  /// Parses a request head at the front of `bytes`.
  public static func parse(_ bytes: ArraySlice<UInt8>) -> ParseResult {
    // Find the blank line that ends the head.
    var end: Int? = nil
    var index = bytes.startIndex
    while index + 3 < bytes.endIndex {
      if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13
        && bytes[index + 3] == 10
      {
        end = index
        break
      }
      index += 1
    }
    guard let end else {
      return bytes.count > maximumHeadLength ? .invalid(status: 431) : .incomplete
    }
    guard end - bytes.startIndex <= maximumHeadLength else { return .invalid(status: 431) }
    let lines = bytes[bytes.startIndex..<end].split(separator: 10, omittingEmptySubsequences: false)
      .map { line in line.last == 13 ? line.dropLast() : line }
    guard let requestLine = lines.first else { return .invalid(status: 400) }
    let parts = requestLine.split(separator: 32, omittingEmptySubsequences: true)
    guard parts.count == 3, parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual("*".utf8)
    else {
      return .invalid(status: 400)
    }
    let version = String(decoding: parts[2], as: UTF8.self)
    let minor: Int
    switch version {
    case "HTTP/1.1": minor = 1
    case "HTTP/1.0": minor = 0
    default: return .invalid(status: 505)
    }
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
        return .invalid(status: 400)
      }
      let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
      guard !name.contains(" ") else { return .invalid(status: 400) }
      let value = String(decoding: line[(colon + 1)...], as: UTF8.self)
      headers.append((name.lowercased(), value.trimmingSpaces()))
    }
    let request = HTTPRequest(
      method: String(decoding: parts[0], as: UTF8.self),
      target: String(decoding: parts[1], as: UTF8.self),
      minorVersion: minor, headers: headers)
    return .complete(request, consumed: end + 4 - bytes.startIndex)
  }
}

extension String {
  /// The string without leading and trailing spaces and tabs.
  func trimmingSpaces() -> String {
    let bytes = Array(utf8)
    var start = 0
    var end = bytes.count
    while start < end && (bytes[start] == 32 || bytes[start] == 9) { start += 1 }
    while end > start && (bytes[end - 1] == 32 || bytes[end - 1] == 9) { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }
}
