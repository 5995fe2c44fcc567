/// A request on netstackd's control socket (`--control PATH`): one line of text ended by a line
/// feed, `status` (or `status text`) for the text report, `status json` for the JSON one.
/// Spaces, tabs and a carriage return around the words are ignored.
///
/// This is the daemon's own protocol (no RFC); its parsing is a pure function of the bytes a
/// client has sent so far, so that it can be fuzzed and tested without a socket.
public enum ControlRequest: Equatable, Sendable {
  case status(json: Bool)

  /// The most bytes a request line may take, its line feed included. A client that sends this
  /// many without a line feed gets an error.
  public static let maximumLength = 256

  /// What the bytes a client has sent so far amount to. Only the first line counts; bytes
  /// after its line feed are ignored.
  public static func parse(_ bytes: some Collection<UInt8>) -> ControlRequestParse {
    var line: [UInt8] = []
    var ended = false
    for byte in bytes.prefix(maximumLength) {
      if byte == lineFeed {
        ended = true
        break
      }
      line.append(byte)
    }
    guard ended else { return bytes.count >= maximumLength ? .invalid(.tooLong) : .incomplete }
    let words = trimmed(line[...])
    switch String(decoding: words, as: UTF8.self) {
    case "status", "status text": return .request(.status(json: false))
    case "status json": return .request(.status(json: true))
    default: return .invalid(.unknown(printable(words)))
    }
  }

  private static let lineFeed: UInt8 = 0x0A

  /// Without leading and trailing spaces, tabs and carriage returns.
  private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
    var result = line
    while let first = result.first, isBlank(first) { result.removeFirst() }
    while let last = result.last, isBlank(last) { result.removeLast() }
    return result
  }

  /// The longest excerpt of an unknown request quoted back to the client.
  static let maximumQuoted = 64

  /// The request as it may be shown back: printable ASCII only (anything else becomes `?`),
  /// at most ``maximumQuoted`` characters (then `...`).
  private static func printable(_ words: ArraySlice<UInt8>) -> String {
    var text = ""
    for byte in words.prefix(maximumQuoted) {
      text.unicodeScalars.append(
        byte >= 0x20 && byte < 0x7F ? Unicode.Scalar(byte) : Unicode.Scalar(0x3F))
    }
    if words.count > maximumQuoted { text += "..." }
    return text
  }
}

/// What a client's bytes amount to so far (``ControlRequest/parse(_:)``).
public enum ControlRequestParse: Equatable, Sendable {
  /// No line feed yet, in fewer than ``ControlRequest/maximumLength`` bytes: wait for more.
  case incomplete
  /// A whole request.
  case request(ControlRequest)
  /// Not a request: the client gets ``ControlRequestError/answer`` and the connection closes.
  case invalid(ControlRequestError)
}

/// Why a client's line is not a request.
public enum ControlRequestError: Equatable, Sendable {
  /// No line feed within ``ControlRequest/maximumLength`` bytes.
  case tooLong
  /// A line that names no request; the excerpt is printable ASCII (see ``ControlRequest``).
  case unknown(String)

  /// The one-line answer the client gets.
  public var answer: String {
    switch self {
    case .tooLong:
      "error: request longer than \(ControlRequest.maximumLength) bytes (expected 'status' or 'status json')\n"
    case .unknown(let excerpt):
      "error: unknown request '\(excerpt)' (expected 'status' or 'status json')\n"
    }
  }
}
