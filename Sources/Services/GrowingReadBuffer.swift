import NetworkAPI

/// The buffer a service reads a connection into: it starts small and doubles, up to a limit,
/// each time a read fills it. An idle connection then holds a couple of KiB rather than the
/// size a bulk transfer wants (10,000 idle `discard` connections with a fixed 256 KiB buffer
/// each held 2.5 GB), and a bulk transfer reaches large reads after a few of them.
struct GrowingReadBuffer {
  /// The storage; a read's bytes are `bytes[0..<count]` until the next read.
  private(set) var bytes: [UInt8]
  /// The largest the buffer grows to.
  let limit: Int
  private var filledLastTime = false

  init(initialSize: Int = 2048, limit: Int) {
    bytes = [UInt8](repeating: 0, count: min(initialSize, limit))
    self.limit = limit
  }

  /// Reads what `connection` has (at least one byte, or 0 at the end of the stream), after
  /// growing the buffer if the previous read filled it.
  mutating func read<Connection: TCPConnectionHandle>(from connection: Connection)
    async throws(NetworkError) -> Int
  {
    if filledLastTime && bytes.count < limit {
      bytes = [UInt8](repeating: 0, count: min(limit, bytes.count * 2))
    }
    let count = try await connection.read(into: &bytes)
    filledLastTime = count == bytes.count
    return count
  }
}
