import NetCore
import NetStack
import TCP

/// A bidirectional TCP transfer between the two stacks of a ``SimulatedNetwork``, checked
/// byte by byte: the left stack connects to a listener on the right, each side sends its
/// bytes, half-closes, reads the other side's bytes to the end, and closes.
///
/// The bytes are generated from their position and the seed, so megabytes are checked
/// without being stored. Used by the simulation tests and the throughput matrix.
public struct TCPTransfer {
  /// What happened.
  public struct Result: Sendable {
    /// Both sides received exactly the other's bytes, in order.
    public var bytesIntact: Bool
    /// Bytes each side received.
    public var leftReceived: Int
    public var rightReceived: Int
    /// Both connections reached CLOSED or TIME-WAIT without an error.
    public var closedCleanly: Bool
    /// Virtual time from connect to both sides done.
    public var duration: Interval
    /// The first thing that went wrong, if anything did.
    public var failure: String?
    public var leftCounters: TCPCounters
    public var rightCounters: TCPCounters
  }

  /// The byte at `position` of the stream sent by side `side` (0 left, 1 right): cheap to
  /// compute, and different for every shift of the stream by less than 64 KiB, so that a
  /// misplaced or repeated piece shows.
  @inline(__always)
  public static func byte(at position: Int, side: UInt64, seed: UInt64) -> UInt8 {
    let x = UInt64(truncatingIfNeeded: position)
    return UInt8(truncatingIfNeeded: (x ^ (x >> 8) &* 31 ^ (x >> 16) &* 131) &+ side &* 101 &+ seed)
  }

  /// Runs a transfer of `leftBytes` left→right and `rightBytes` right→left.
  public static func run(
    network: inout SimulatedNetwork, leftBytes: Int, rightBytes: Int, seed: UInt64,
    port: UInt16 = 5001,
    timeLimit: Interval = .seconds(600), writeChunk: Int = 65536
  ) -> Result {
    let start = network.now
    let serverAddress = IPAddress.v4(network.right.ipv4.address!.address)
    var failure: String? = nil
    let listener: TCPListenerID
    do {
      listener = try network.right.tcp.listen(port: port)
    } catch {
      return Result(
        bytesIntact: false, leftReceived: 0, rightReceived: 0, closedCleanly: false,
        duration: .zero,
        failure: "listen failed: \(error)", leftCounters: network.left.tcp.counters,
        rightCounters: network.right.tcp.counters)
    }
    var client: Side
    do {
      var ipv4 = network.left.ipv4
      let id = try network.left.tcp.connect(
        to: serverAddress, port: port, now: network.now, network: &ipv4)
      network.left.ipv4 = ipv4
      client = Side(id: id, toSend: leftBytes, toReceive: rightBytes, sendSide: 0, receiveSide: 1)
    } catch {
      return Result(
        bytesIntact: false, leftReceived: 0, rightReceived: 0, closedCleanly: false,
        duration: .zero,
        failure: "connect failed: \(error)", leftCounters: network.left.tcp.counters,
        rightCounters: network.right.tcp.counters)
    }
    var server: Side? = nil
    let chunk = [UInt8](repeating: 0, count: writeChunk)
    var scratch = [UInt8](repeating: 0, count: 65536)
    let deadline = start + timeLimit
    var finished = false

    network.run(until: deadline) { network in
      if server == nil, let id = network.right.tcp.accept(listener) {
        server = Side(id: id, toSend: rightBytes, toReceive: leftBytes, sendSide: 1, receiveSide: 0)
      }
      client.pump(
        &network.left, now: network.now, seed: seed, chunk: chunk, scratch: &scratch,
        failure: &failure)
      if server != nil {
        server!.pump(
          &network.right, now: network.now, seed: seed, chunk: chunk, scratch: &scratch,
          failure: &failure)
      }
      if failure != nil { return false }
      if client.done && (server?.done ?? false) {
        finished = true
        return false
      }
      return true
    }
    let end = network.now
    // Let the final ACKs and FINs settle so that both ends reach their final states.
    network.run(until: network.now + .seconds(5))
    if failure == nil && !finished {
      failure =
        "did not finish by \(timeLimit): left received \(client.received)/\(rightBytes), right received \(server?.received ?? 0)/\(leftBytes); left \(network.left.tcp.state(client.id)?.name ?? "gone"), right \(server.flatMap { network.right.tcp.state($0.id)?.name } ?? "gone")"
    }
    let leftState = network.left.tcp.info(client.id)
    let rightState = server.flatMap { network.right.tcp.info($0.id) }
    let closed = [leftState, rightState].allSatisfy { connection in
      guard let connection else { return true }
      return (connection.state == .closed || connection.state == .timeWait)
        && connection.error == nil
    }
    if let leftState, leftState.error != nil, failure == nil {
      failure = "left: \(leftState.error!)"
    }
    if let rightState, rightState.error != nil, failure == nil {
      failure = "right: \(rightState.error!)"
    }
    network.left.tcp.release(client.id)
    if let server { network.right.tcp.release(server.id) }
    network.right.tcp.stopListening(listener)
    return Result(
      bytesIntact: failure == nil && client.received == rightBytes && server?.received == leftBytes,
      leftReceived: client.received, rightReceived: server?.received ?? 0,
      closedCleanly: closed && finished, duration: end - start, failure: failure,
      leftCounters: network.left.tcp.counters, rightCounters: network.right.tcp.counters)
  }

  /// One end's progress.
  struct Side {
    let id: TCPConnectionID
    let toSend: Int
    let toReceive: Int
    let sendSide: UInt64
    let receiveSide: UInt64
    var sent = 0
    var received = 0
    var shutDown = false
    var closed = false
    /// Generated bytes not yet accepted by the send buffer, from `pendingOffset` on.
    var pending: [UInt8] = []
    var pendingOffset = 0

    var done: Bool { closed }

    /// Writes what fits, reads what arrived (checking it), half-closes when all is written,
    /// closes when the peer's stream has ended.
    mutating func pump(
      _ stack: inout DirectStack, now: Instant, seed: UInt64, chunk: [UInt8],
      scratch: inout [UInt8],
      failure: inout String?
    ) {
      guard !closed, let state = stack.tcp.state(id) else { return }
      if let error = stack.tcp.error(id) {
        failure = failure ?? "connection failed: \(error) in \(state.name)"
        return
      }
      while sent < toSend && state.isSynchronized {
        if pendingOffset == pending.count {
          // Generate the next stretch of the stream once; write it in as many pieces as fit.
          let length = min(chunk.count, toSend - sent)
          pending.removeAll(keepingCapacity: true)
          for index in 0..<length {
            pending.append(TCPTransfer.byte(at: sent + index, side: sendSide, seed: seed))
          }
          pendingOffset = 0
        }
        let written: Int
        do {
          written = try stack.tcp.write(id, pending.span.extracting(pendingOffset..<pending.count))
        } catch {
          failure = failure ?? "write failed: \(error)"
          return
        }
        if written == 0 { break }
        sent += written
        pendingOffset += written
      }
      if sent == toSend && !shutDown && state.isSynchronized {
        try? stack.tcp.shutdownWrite(id)
        shutDown = true
      }
      while true {
        let count = scratch.withUnsafeMutableBytes { buffer in
          (try? stack.tcp.read(id, into: buffer, now: now)) ?? 0
        }
        if count == 0 { break }
        for index in 0..<count
        where scratch[index]
          != TCPTransfer.byte(at: received + index, side: receiveSide, seed: seed)
        {
          failure = failure ?? "byte \(received + index) differs"
          return
        }
        received += count
        if received > toReceive {
          failure = failure ?? "received \(received) bytes, more than the \(toReceive) sent"
          return
        }
      }
      if stack.tcp.isAtEndOfStream(id) && shutDown {
        if received != toReceive {
          failure = failure ?? "stream ended after \(received) of \(toReceive) bytes"
          return
        }
        closed = true
      }
    }
  }
}
