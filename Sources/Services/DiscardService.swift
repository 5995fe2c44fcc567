import NetworkAPI

/// The discard service (RFC 863): reads and throws away everything until the client closes.
public struct DiscardService: Sendable {
  public let port: UInt16
  public init(port: UInt16 = 9) { self.port = port }

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let listener = try await stack.listen(port: port, backlog: 1024)
    await acceptLoop(listener) { connection in
      var buffer = GrowingReadBuffer(limit: 256 * 1024)
      do {
        while try await buffer.read(from: connection) > 0 {}
      } catch {}
      await connection.close()
    }
  }
}
