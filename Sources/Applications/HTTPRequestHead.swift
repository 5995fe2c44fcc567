/// What the HTTP service needs of a request head (RFC 9112 §3 request line, §5 field lines,
/// §6 message body, §9.3 persistence), parsed from bytes without Foundation, Unicode tables
/// or a string per header.
///
/// Strict where leniency is a known hazard: exactly three parts in the request line, no space
/// before a field's colon, no obsolete line folding, digits only in Content-Length and one
/// value for it, and a request with Transfer-Encoding is refused (this server reads no
/// chunked bodies; with Content-Length as well it is the shape of request smuggling,
/// RFC 9112 §6.3).
public struct HTTPRequestHead: Equatable, Sendable {
  /// The method: `GET`, `HEAD`, ...
  public var method: [UInt8]
  /// The request target as sent (origin form, `/path?query`, or `*`).
  public var target: [UInt8]
  /// 0 for HTTP/1.0, 1 for HTTP/1.1.
  public var minorVersion: Int
  /// The body's length from Content-Length (0 without one).
  public var contentLength: Int
  /// `Connection: close` was sent.
  public var connectionClose = false
  /// `Connection: keep-alive` was sent.
  public var connectionKeepAlive = false

  /// A request the server cannot take, with the status that answers it.
  public struct Rejection: Error, Equatable, Sendable {
    public var status: Int
  }

  /// Whether the connection stays open after the response (RFC 9112 §9.3): HTTP/1.1 unless
  /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
  public var keepAlive: Bool {
    minorVersion >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose
  }

  /// The path: the target without its query.
  public var path: ArraySlice<UInt8> {
    target.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)
      .first ?? target[...]
  }

  /// Parses a whole head: the request line and field lines, each ended by CR LF, and the
  /// empty line.
  public init(parsing head: Span<UInt8>) throws(Rejection) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(head.count)
    for index in 0..<head.count { bytes.append(head[index]) }
    var lines = HTTPRequestHead.lines(of: bytes)
    guard !lines.isEmpty else { throw Rejection(status: 400) }
    let requestLine = lines.removeFirst()
    let parts = requestLine.split(separator: 32, omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty,
      parts[0].allSatisfy(HTTPRequestHead.isTokenCharacter),
      parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual([UInt8(ascii: "*")]),
      parts[1].allSatisfy({ $0 > 32 && $0 < 127 })
    else { throw Rejection(status: 400) }
    switch Array(parts[2]) {
    case Array("HTTP/1.1".utf8): minorVersion = 1
    case Array("HTTP/1.0".utf8): minorVersion = 0
    default:
      // A version this server does not speak (RFC 9110 §15.6.6), or not HTTP at all.
      throw Rejection(status: parts[2].starts(with: Array("HTTP/".utf8)) ? 505 : 400)
    }
    method = Array(parts[0])
    target = Array(parts[1])
    contentLength = 0
    var sawContentLength = false
    for field in lines {
      guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex,
        field[field.startIndex..<colon].allSatisfy(HTTPRequestHead.isTokenCharacter)
      else { throw Rejection(status: 400) }
      let name = field[field.startIndex..<colon]
      let value = HTTPRequestHead.trimmed(field[(colon + 1)...])
      if HTTPRequestHead.equalsIgnoringCase(name, "content-length") {
        guard let length = HTTPRequestHead.decimal(value),
          !sawContentLength || length == contentLength
        else { throw Rejection(status: 400) }
        contentLength = length
        sawContentLength = true
      } else if HTTPRequestHead.equalsIgnoringCase(name, "transfer-encoding") {
        throw Rejection(status: sawContentLength ? 400 : 501)
      } else if HTTPRequestHead.equalsIgnoringCase(name, "connection") {
        for option in value.split(separator: UInt8(ascii: ",")) {
          let token = HTTPRequestHead.trimmed(option)
          if HTTPRequestHead.equalsIgnoringCase(token, "close") { connectionClose = true }
          if HTTPRequestHead.equalsIgnoringCase(token, "keep-alive") { connectionKeepAlive = true }
        }
      }
    }
  }

  // MARK: Bytes

  /// The lines of `head`, without their CR LF, up to the empty line. A line with a bare CR
  /// or LF in it is left as it is, and fails the checks of what it should hold.
  private static func lines(of head: [UInt8]) -> [ArraySlice<UInt8>] {
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    var index = 0
    while index + 1 < head.count {
      if head[index] == 13 && head[index + 1] == 10 {
        if index == start { break }  // the empty line
        lines.append(head[start..<index])
        start = index + 2
        index += 2
      } else {
        index += 1
      }
    }
    return lines
  }

  /// RFC 9110 §5.6.2 tchar: what a method or a field name may be made of.
  static func isTokenCharacter(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
      UInt8(ascii: "A")...UInt8(ascii: "Z"):
      return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
      UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
      UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
      UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
      return true
    default:
      return false
    }
  }

  /// The bytes without leading and trailing spaces and tabs (OWS, RFC 9110 §5.6.3).
  static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end && (bytes[start] == 32 || bytes[start] == 9) { start += 1 }
    while end > start && (bytes[end - 1] == 32 || bytes[end - 1] == 9) { end -= 1 }
    return bytes[start..<end]
  }

  /// Whether `bytes` spell `lowercase` in any case (ASCII).
  static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
    guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
    var index = 0
    for byte in bytes {
      let folded = byte >= 65 && byte <= 90 ? byte + 32 : byte
      if folded != lowercase.utf8Start[index] { return false }
      index += 1
    }
    return true
  }

  /// A decimal number of 1 to 15 digits and nothing else.
  public static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
    guard !digits.isEmpty, digits.count <= 15 else { return nil }
    var value = 0
    for digit in digits {
      guard digit >= 48, digit <= 57 else { return nil }
      value = value * 10 + Int(digit - 48)
    }
    return value
  }
}
