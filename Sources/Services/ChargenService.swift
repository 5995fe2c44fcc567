import NetworkAPI

/// A character-generator source (RFC 864's pattern): sends lines of rotating printable ASCII
/// for as long as the client stays, which makes it the stack's bulk-send benchmark. Stops
/// when the client closes or resets the connection.
public struct ChargenService: Sendable {
  public let port: UInt16
  public init(port: UInt16 = 19) { self.port = port }

  /// RFC 864's 72-character lines, each starting one character further along the 95
  /// printable characters, repeated to fill a chunk that is written over and over.
  static let chunk: [UInt8] = {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(95 * 74)
    for line in 0..<95 {
      for column in 0..<72 { bytes.append(UInt8(32 + (line + column) % 95)) }
      bytes.append(UInt8(ascii: "\r"))
      bytes.append(UInt8(ascii: "\n"))
    }
    var chunk: [UInt8] = []
    while chunk.count < 256 * 1024 { chunk.append(contentsOf: bytes) }
    return chunk
  }()

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let listener = try await stack.listen(port: port, backlog: 1024)
    await acceptLoop(listener) { connection in
      await withTaskGroup(of: Void.self) { group in
        // The client's side ending (FIN) ends the stream: watch for it while writing.
        group.addTask {
          var buffer = GrowingReadBuffer(initialSize: 512, limit: 4096)
          while (try? await buffer.read(from: connection)).map({ $0 > 0 }) ?? false {}
          await connection.abort()
        }
        group.addTask {
          let chunk = ChargenService.chunk[...]
          while (try? await connection.write(chunk)) != nil {}
          await connection.abort()
        }
      }
    }
  }
}
