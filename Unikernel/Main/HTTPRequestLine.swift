/// The parts of an HTTP/1.x request head (RFC 9112 §3, §9.3) the unikernel's HTTP server
/// looks at, parsed from bytes without Foundation or Unicode tables.
struct HTTPRequestLine {
  /// `GET`, `HEAD`, ...
  var method: [UInt8]
  /// The path, without a query.
  var path: [UInt8]
  /// Whether the connection stays open after the response: HTTP/1.1 without
  /// `Connection: close`.
  var keepAlive: Bool

  /// The longest request head accepted.
  static let maximumHeadLength = 16 * 1024

  /// What the start of `bytes` holds.
  enum Parse {
    /// A whole head, `length` bytes long (with its empty line).
    case complete(HTTPRequestLine, length: Int)
    case incomplete
    /// Not HTTP, or a head longer than ``maximumHeadLength``.
    case invalid
  }

  static func parse(_ bytes: [UInt8]) -> Parse {
    guard let end = find([13, 10, 13, 10], in: bytes[...]) else {
      return bytes.count > maximumHeadLength ? .invalid : .incomplete
    }
    let head = bytes[..<end]
    let lineEnd = find([13, 10], in: head) ?? head.endIndex
    let parts = head[..<lineEnd].split(separator: 32)
    guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)) else { return .invalid }
    let target = parts[1]
    let path = target.split(separator: UInt8(ascii: "?"), maxSplits: 1).first ?? target
    let headers = Array(head[lineEnd...]).map(lowercase)
    let keepAlive =
      parts[2].last == UInt8(ascii: "1")
      && find(Array("connection: close".utf8), in: headers[...]) == nil
    return .complete(
      HTTPRequestLine(method: Array(parts[0]), path: Array(path), keepAlive: keepAlive),
      length: end + 4)
  }

  /// Where `needle` first starts in `haystack`.
  private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    var start = haystack.startIndex
    while start + needle.count <= haystack.endIndex {
      if haystack[start..<start + needle.count].elementsEqual(needle) { return start }
      start += 1
    }
    return nil
  }

  private static func lowercase(_ byte: UInt8) -> UInt8 {
    byte >= 65 && byte <= 90 ? byte + 32 : byte
  }
}
