import NetworkAPI

/// Port forwarding: each connection accepted on one stack is relayed to a fixed address
/// through another stack, bytes copied both ways (``TCPSplice``), each direction's end (FIN)
/// passed on as a half-close (RFC 9293 §3.6) and a failure either way resetting both. How a
/// host service is put behind the Swift stack (`netstackd --forward`).
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
        group.addTask { await TCPSplice.copy(from: incoming, to: outgoing) { _ in } }
        group.addTask { await TCPSplice.copy(from: outgoing, to: incoming) { _ in } }
      }
      // After a failure both are reset already; closing them again reaches no other
      // connection (``TCPConnectionHandle/close()``).
      await incoming.close()
      await outgoing.close()
    }
  }
}
