import Applications
import LinuxRuntime
import NetCore
import NetworkAPI

/// Runs a sans-IO `ConnectionHandler` over one connection of any `NetworkStack` (here the
/// direct stack's `DirectNetworkStack`; `SocketNetworkStack` on the host's sockets works the
/// same), with async reads and writes, in the order the library's `TCPServiceHost` steps a
/// handler: let it send, offer it what arrived, tell it of the peer's end (RFC 9293 §3.10.7.4,
/// FIN), then do what its disposition asks (close: RFC 9293 §3.10.4; abort: §3.10.5).
///
/// Bounds: the handler writes into a buffer of ``outputLimit`` bytes, which is sent before the
/// handler is asked again (a full buffer is its back-pressure); bytes it leaves untaken wait
/// here, at most ``inputLimit`` (beyond that the connection is reset). When the handler's
/// deadline passes while the driver waits for the peer, the connection is reset and the
/// handler is told (`timerExpired`): simpler than the library's hosts, which let the handler
/// answer first.
struct HandlerDriver<Handler: ConnectionHandler, Connection: TCPConnectionHandle> {
  /// The most bytes the handler may write before they are sent.
  static var outputLimit: Int { 16 * 1024 }
  /// The most bytes the handler may leave untaken.
  static var inputLimit: Int { 16 * 1024 }
  /// Bytes read from the connection at a time.
  static var readSize: Int { 4096 }

  let connection: Connection
  var handler: Handler

  /// Serves the connection until the handler is done or the connection fails, then gives up
  /// the connection and calls the handler's `finish()`.
  mutating func run() async {
    var output = BufferedOutput(limit: Self.outputLimit)
    var buffer = [UInt8](repeating: 0, count: Self.readSize)
    var pending: [UInt8] = []
    var peerEnded = false
    var endDelivered = false
    defer { handler.finish() }
    do throws(NetworkError) {
      while true {
        if handler.disposition == .open { handler.send(output: &output, now: MonotonicClock.now()) }
        let sent = try await output.send(to: connection)
        guard handler.disposition == .open else { break }
        // Bytes that arrived and were not taken yet.
        if !pending.isEmpty {
          let taken = pending.withUnsafeBufferPointer {
            handler.receive(Span(_unsafeElements: $0), output: &output, now: MonotonicClock.now())
          }
          pending.removeFirst(min(taken, pending.count))
          if taken > 0 { continue }
        }
        // The peer's end, once everything before it was taken.
        if peerEnded && !endDelivered && pending.isEmpty {
          endDelivered = true
          handler.receiveEnd(output: &output, now: MonotonicClock.now())
          continue
        }
        // A handler that is still writing goes on: what it wrote was sent, there may be more.
        if sent > 0 { continue }
        if peerEnded {
          // Nothing more will arrive: only the handler's timer can change anything.
          guard let deadline = handler.nextDeadline else { break }
          try? await Task.sleep(
            for: .nanoseconds(max(0, (deadline - MonotonicClock.now()).nanoseconds)))
          handler.timerExpired(now: MonotonicClock.now())
          continue
        }
        guard pending.count < Self.inputLimit else {
          await connection.abort()
          return
        }
        switch await read(into: &buffer, deadline: handler.nextDeadline) {
        case .bytes(let count):
          pending.append(contentsOf: buffer[0..<count])
        case .end:
          peerEnded = true
        case .deadlinePassed:
          // The watchdog reset the connection and gave up the handle.
          handler.timerExpired(now: MonotonicClock.now())
          return
        case .failed(let error):
          throw error
        }
      }
    } catch {
      // Reset by the peer, or failed: give up the handle.
      await connection.abort()
      return
    }
    if handler.disposition == .abort {
      await connection.abort()
    } else {
      await connection.close()
    }
  }

  /// What a read brought.
  private enum ReadResult {
    case bytes(Int)
    case end
    case deadlinePassed
    case failed(NetworkError)
  }

  /// Reads into `buffer`; a watchdog task resets the connection at `deadline` if the read
  /// has not returned by then.
  private func read(into buffer: inout [UInt8], deadline: Instant?) async -> ReadResult {
    let connection = self.connection
    let watchdog = deadline.map { deadline in
      Task { () -> Bool in
        let remaining = max(0, (deadline - MonotonicClock.now()).nanoseconds)
        try? await Task.sleep(for: .nanoseconds(remaining))
        if Task.isCancelled { return false }
        await connection.abort()
        return true
      }
    }
    let result: ReadResult
    do throws(NetworkError) {
      let count = try await connection.read(into: &buffer)
      result = count == 0 ? .end : .bytes(count)
    } catch {
      result = .failed(error)
    }
    guard let watchdog else { return result }
    watchdog.cancel()
    return await watchdog.value ? .deadlinePassed : result
  }
}

/// Where the handler writes: a bounded buffer that the driver sends after each call.
struct BufferedOutput: ConnectionOutput {
  private var bytes: [UInt8] = []
  let limit: Int

  init(limit: Int) {
    self.limit = limit
  }

  mutating func write(_ offered: Span<UInt8>) -> Int {
    let count = min(offered.count, limit - bytes.count)
    for index in 0..<count { bytes.append(offered[index]) }
    return count
  }

  /// Sends what was written and empties the buffer; returns how many bytes that was.
  mutating func send<Connection: TCPConnectionHandle>(to connection: Connection)
    async throws(NetworkError) -> Int
  {
    guard !bytes.isEmpty else { return 0 }
    try await connection.write(bytes[...])
    defer { bytes.removeAll(keepingCapacity: true) }
    return bytes.count
  }
}
