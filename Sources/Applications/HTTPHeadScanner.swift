/// Finds the end of an HTTP request head (the empty line: CR LF CR LF, RFC 9112 §2.1) in
/// bytes that arrive in pieces, looking at each byte once: a head that trickles in a byte at a
/// time costs linear time, not a rescan of everything received for every byte.
public struct HTTPHeadScanner: Equatable, Sendable {
  /// How many bytes of CR LF CR LF the bytes seen so far end with.
  private var matched = 0

  public init() {}

  /// Looks at `bytes` (the next ones of the stream); returns how many of them belong to the
  /// head, up to and including its empty line, or nil if the head goes on past them.
  public mutating func scan(_ bytes: Span<UInt8>) -> Int? {
    for index in 0..<bytes.count {
      let byte = bytes[index]
      if byte == 13 {
        matched = matched == 2 ? 3 : 1
      } else if byte == 10 && (matched == 1 || matched == 3) {
        matched += 1
        if matched == 4 {
          matched = 0
          return index + 1
        }
      } else {
        matched = 0
      }
    }
    return nil
  }
}
