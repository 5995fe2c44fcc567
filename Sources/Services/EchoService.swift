import NetworkAPI

/// The echo service (RFC 862) over TCP: every byte received is sent back, until the client
/// closes its side; then the server closes too.
public struct EchoService: Sendable {
  public let port: UInt16
  public init(port: UInt16 = 7) { self.port = port }

  /// Accepts and serves connections until the stack shuts down.
  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let listener = try await stack.listen(port: port, backlog: 1024)
    await acceptLoop(listener) { connection in
      var buffer = GrowingReadBuffer(limit: 64 * 1024)
      do {
        while true {
          let count = try await buffer.read(from: connection)
          if count == 0 { break }
          try await connection.write(buffer.bytes[0..<count])
        }
        try await connection.shutdownWrite()
      } catch {}
      await connection.close()
    }
  }
}

/// Accepts connections on `listener` for as long as it accepts, serving each in a child
/// task of its own.
func acceptLoop<Listener: TCPListenerHandle>(
  _ listener: Listener, serve: @escaping @Sendable (Listener.Connection) async -> Void
) async {
  await withDiscardingTaskGroup { group in
    while true {
      let connection: Listener.Connection
      do throws(NetworkError) {
        connection = try await listener.accept()
      } catch {
        if error == .closed { break }
        continue  // a connection that failed before it was accepted
      }
      group.addTask { await serve(connection) }
    }
  }
}
