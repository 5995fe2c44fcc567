import LinuxRuntime
import NetworkAPI

/// The "hello" service on a TCP port of any `NetworkStack`: accepts connections and serves
/// each with a ``GreetingHandler`` in a task of its own (``HandlerDriver``), at most
/// ``maximumConnections`` at once (more are closed at once and counted as turned away).
struct GreetingServer: Sendable {
  /// Connections served at once at most.
  static let maximumConnections = 1024

  let port: UInt16
  let counters: GreetingCounters

  /// Listens on ``port`` and serves until the listener fails.
  func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) {
    let listener = try await stack.listen(port: port, backlog: 128)
    await withDiscardingTaskGroup { group in
      while true {
        let connection: Stack.Connection
        do throws(NetworkError) {
          connection = try await listener.accept()
        } catch {
          if error == .closed { break }
          continue  // a connection that failed before it was accepted
        }
        guard counters.admit(limit: GreetingServer.maximumConnections) else {
          await connection.abort()
          continue
        }
        group.addTask { [counters] in
          var driver = HandlerDriver(
            connection: connection,
            handler: GreetingHandler(now: MonotonicClock.now(), counters: counters))
          await driver.run()
          counters.leave()
        }
      }
    }
  }
}
