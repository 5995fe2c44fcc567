import NetCore

/// The character generator (RFC 864) on one TCP connection: lines of rotating printable ASCII
/// for as long as the client stays, which makes it the stack's bulk-send benchmark. What the
/// client sends is thrown away; when it closes its side, the connection is reset (it would
/// never read what is still queued).
public struct ChargenSession: ConnectionHandler {
  public private(set) var disposition = ConnectionDisposition.open
  /// Where in ``ChargenSession/pattern`` the next byte comes from.
  private var offset = 0

  /// A session that starts with the pattern's first line.
  public init() {}

  /// RFC 864's 72-character lines, each starting one character further along the 95
  /// printable characters: 95 lines, after which the pattern repeats.
  public static let pattern: [UInt8] = {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(95 * 74)
    for line in 0..<95 {
      for column in 0..<72 { bytes.append(UInt8(32 + (line + column) % 95)) }
      bytes.append(13)
      bytes.append(10)
    }
    return bytes
  }()

  /// The pattern repeated to about 256 KiB, so that a large send buffer fills in a few writes.
  static let chunk: [UInt8] = {
    var bytes: [UInt8] = []
    while bytes.count < 256 * 1024 { bytes.append(contentsOf: pattern) }
    return bytes
  }()

  public mutating func receive<Output: ConnectionOutput & ~Copyable>(
    _ bytes: Span<UInt8>, output: inout Output, now: Instant
  ) -> Int {
    bytes.count
  }

  public mutating func receiveEnd<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    disposition = .abort
  }

  public mutating func send<Output: ConnectionOutput & ~Copyable>(
    output: inout Output, now: Instant
  ) {
    // The chunk holds whole patterns, so an offset into the pattern is one into the chunk.
    let chunk = ChargenSession.chunk
    let period = ChargenSession.pattern.count
    while disposition == .open {
      let offered = chunk.count - offset
      // Held, not copied, where the output can (a TCP send buffer): the bytes are copied
      // once, into their segments.
      let written = output.write(holding: chunk[offset..<chunk.count])
      offset = (offset + written) % period
      if written < offered { return }
    }
  }

  public var nextDeadline: Instant? { nil }
  public mutating func timerExpired(now: Instant) {}
}
