import NetworkAPI

/// Port forwarding: each connection accepted on one stack is relayed to a fixed address
/// through another stack, bytes copied both ways, each direction's end (FIN) passed on as a
/// half-close. How a host service is put behind the Swift stack (`netstackd --forward`).
public struct ForwardService: Sendable {
  public let port: UInt16
  public let target: SocketAddress

  public init(port: UInt16, target: SocketAddress) {
    self.port = port
    self.target = target
  }

  /// Accepts on `front` and relays through `back` until the front stack shuts down.
  public func run<Front: NetworkStack, Back: NetworkStack>(front: Front, back: Back)
    async throws(NetworkError)
  {
    let listener = try await front.listen(port: port, backlog: 1024)
    let target = self.target
    await acceptLoop(listener) { incoming in
      let outgoing: Back.Connection
      do {
        outgoing = try await back.connect(to: target)
      } catch {
        await incoming.abort()  // the target refused: so does the forward
        return
      }
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await ForwardService.copy(from: incoming, to: outgoing) }
        group.addTask { await ForwardService.copy(from: outgoing, to: incoming) }
      }
      await incoming.close()
      await outgoing.close()
    }
  }

  /// Copies until `source` ends, then half-closes `destination`. A failure on either side
  /// resets both.
  static func copy<Source: TCPConnectionHandle, Destination: TCPConnectionHandle>(
    from source: Source, to destination: Destination
  ) async {
    var buffer = GrowingReadBuffer(limit: 64 * 1024)
    do {
      while true {
        let count = try await buffer.read(from: source)
        if count == 0 { break }
        try await destination.write(buffer.bytes[0..<count])
      }
      try await destination.shutdownWrite()
    } catch {
      await source.abort()
      await destination.abort()
    }
  }
}
