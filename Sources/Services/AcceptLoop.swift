import NetworkAPI

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
