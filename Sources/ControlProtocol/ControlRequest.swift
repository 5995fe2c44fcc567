/// A request on netstackd's control socket (`--control PATH`): one line of text ended by a line
/// feed, `status` (or `status text`) for the text report, `status json` for the JSON one;
/// `publish add SPEC`, `publish remove SPEC`, `publish list [json]` for the published ports
/// (``PublishSpec``). Spaces, tabs and a carriage return around the words are ignored.
///
/// This is the daemon's own protocol (no RFC); its parsing is a pure function of the bytes a
/// client has sent so far, so that it can be fuzzed and tested without a socket.
public enum ControlRequest: Equatable, Sendable {
  case status(json: Bool)
  /// Publish a port (`publish add SPEC`).
  case publishAdd(PublishSpec)
  /// Stop publishing a port (`publish remove SPEC`; only the host side counts).
  case publishRemove(PublishSpec)
  /// The published ports (`publish list`, `publish list json`).
  case publishList(json: Bool)

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
    case "publish list", "publish list text": return .request(.publishList(json: false))
    case "publish list json": return .request(.publishList(json: true))
    default: return parsePublishChange(words)
    }
  }

  /// `publish add SPEC` or `publish remove SPEC` (one or more blanks between the words).
  private static func parsePublishChange(_ words: ArraySlice<UInt8>) -> ControlRequestParse {
    let parts = words.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 })
    guard parts.count == 3, String(decoding: parts[0], as: UTF8.self) == "publish" else {
      return .invalid(.unknown(printable(words)))
    }
    let verb = String(decoding: parts[1], as: UTF8.self)
    guard verb == "add" || verb == "remove" else { return .invalid(.unknown(printable(words))) }
    let spec: PublishSpec
    do {
      spec = try PublishSpec.parse(String(decoding: parts[2], as: UTF8.self))
    } catch {
      return .invalid(.badPublishSpec(printable(parts[2]), error))
    }
    return .request(verb == "add" ? .publishAdd(spec) : .publishRemove(spec))
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
  /// `publish add|remove` with a spec that is not one (its printable excerpt, and why).
  case badPublishSpec(String, PublishSpecError)

  /// The one-line answer the client gets.
  public var answer: String {
    switch self {
    case .tooLong:
      "error: request longer than \(ControlRequest.maximumLength) bytes (expected 'status', 'status json' or 'publish add|remove|list ...')\n"
    case .unknown(let excerpt):
      "error: unknown request '\(excerpt)' (expected 'status', 'status json' or 'publish add|remove|list ...')\n"
    case .badPublishSpec(let excerpt, let why):
      "error: '\(excerpt)' is not a published port: \(why) (expected \(PublishSpec.form))\n"
    }
  }
}
