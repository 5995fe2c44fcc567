import NetCore
import NetStack
import NetworkAPI
import TCP
import UDP

/// The application API (`NetworkStack`) on the project's own stack: every call runs on the
/// stack's event loop (at once when the task already prefers that loop, as services do) and
/// suspends until the stack can complete it.
public struct DirectNetworkStack: NetworkStack {
  let runtime: DirectStackRuntime

  public var stackDescription: String { runtime.name }

  public func listen(port: UInt16, backlog: Int) async throws(NetworkError) -> DirectTCPListener {
    try await runtime.loop.run { () throws(NetworkError) -> DirectTCPListener in
      do throws(TCPError) {
        let id = try runtime.stack.tcp.listen(port: port, backlog: backlog)
        return DirectTCPListener(runtime: runtime, id: id)
      } catch {
        throw NetworkError(error)
      }
    }
  }

  public func connect(to address: SocketAddress) async throws(NetworkError) -> DirectTCPConnection {
    try await connect { (stack: inout DirectStack) throws(TCPError) -> TCPConnectionID in
      try stack.connectTCP(to: address.address, port: address.port, now: MonotonicClock.now())
    }
  }

  /// Opens a connection with `open`, on the loop, and waits until it is synchronized; a RST
  /// from the peer is `connectionRefused`.
  func connect(
    opening open: (inout DirectStack) throws(TCPError) -> TCPConnectionID
  ) async throws(NetworkError) -> DirectTCPConnection {
    try await runtime.loop.run { () async throws(NetworkError) -> DirectTCPConnection in
      let id: TCPConnectionID
      do throws(TCPError) {
        id = try open(&runtime.stack)
      } catch {
        throw NetworkError(error)
      }
      while true {
        guard let state = runtime.stack.tcp.state(id), let tuple = runtime.stack.tcp.tuple(id)
        else { throw .closed }
        if let error = runtime.stack.tcp.error(id) {
          runtime.stack.tcp.release(id)
          throw NetworkError(error)
        }
        if state.isSynchronized {
          return DirectTCPConnection(runtime: runtime, id: id, tuple: tuple)
        }
        await runtime.writers.wait(id)
      }
    }
  }

  public func bindUDP(port: UInt16) async throws(NetworkError) -> DirectUDPSocket {
    try await runtime.loop.run { () throws(NetworkError) -> DirectUDPSocket in
      do throws(UDPError) {
        let id = try runtime.stack.udp.bind(port: port)
        return DirectUDPSocket(
          runtime: runtime, id: id, localPort: runtime.stack.udp.endpoint(id)!.localPort)
      } catch {
        throw NetworkError(error)
      }
    }
  }
}

/// A listening port on the direct stack.
public struct DirectTCPListener: TCPListenerHandle {
  let runtime: DirectStackRuntime
  let id: TCPListenerID

  public var localPort: UInt16 { id.port }

  public func accept() async throws(NetworkError) -> DirectTCPConnection {
    try await runtime.loop.run { () async throws(NetworkError) -> DirectTCPConnection in
      while true {
        guard runtime.stack.tcp.isListening(id) else { throw .closed }
        if let connection = runtime.stack.tcp.accept(id),
          let tuple = runtime.stack.tcp.tuple(connection)
        {
          return DirectTCPConnection(runtime: runtime, id: connection, tuple: tuple)
        }
        await runtime.acceptors.wait(id.port)
      }
    }
  }

  public func close() async {
    try? await runtime.loop.run { () throws(NetworkError) in
      runtime.stack.tcp.stopListening(id)
      runtime.acceptors.resumeAll(id.port)
    }
  }
}

/// A TCP connection on the direct stack.
public struct DirectTCPConnection: TCPConnectionHandle {
  let runtime: DirectStackRuntime
  let id: TCPConnectionID
  public let localAddress: SocketAddress
  public let remoteAddress: SocketAddress

  init(runtime: DirectStackRuntime, id: TCPConnectionID, tuple: TCPFourTuple) {
    self.runtime = runtime
    self.id = id
    localAddress = SocketAddress(tuple.localAddress, tuple.localPort)
    remoteAddress = SocketAddress(tuple.remoteAddress, tuple.remotePort)
  }

  /// Throws unless the application still holds the connection.
  private func held() throws(NetworkError) {
    guard runtime.stack.tcp.isHeldByApplication(id) else { throw .closed }
  }

  /// Reads through `TCPLayer.read`, which also lets the layer announce the window the read
  /// opened (the ACK goes out at the loop's next flush).
  public func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int {
    try await runtime.loop.run { () async throws(NetworkError) -> Int in
      while true {
        try held()
        if runtime.stack.tcp.readableBytes(id) > 0 {
          let now = MonotonicClock.now()
          let result = buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(TCPError) -> Int in
              try runtime.stack.tcp.read(id, into: bytes, now: now)
            }
          }
          switch result {
          case .success(let count): return count
          case .failure(let error): throw NetworkError(error)
          }
        }
        if runtime.stack.tcp.isAtEndOfStream(id) { return 0 }
        if let error = runtime.stack.tcp.error(id) { throw NetworkError(error) }
        let state = runtime.stack.tcp.state(id)
        if state == .closed || state == .timeWait { return 0 }
        await runtime.readers.wait(id)
      }
    }
  }

  /// Lends the receive buffer through `TCPLayer.consume`: the bytes were copied once, from
  /// their segments; the layer announces the window the read opened, as with ``read(into:)``.
  public func read(inPlace body: (Span<UInt8>) -> Int) async throws(NetworkError) -> Int {
    try await runtime.loop.run { () async throws(NetworkError) -> Int in
      while true {
        try held()
        if runtime.stack.tcp.readableBytes(id) > 0 {
          do throws(TCPError) {
            return try runtime.stack.tcp.consume(id, now: MonotonicClock.now(), body)
          } catch {
            throw NetworkError(error)
          }
        }
        if runtime.stack.tcp.isAtEndOfStream(id) { return 0 }
        if let error = runtime.stack.tcp.error(id) { throw NetworkError(error) }
        let state = runtime.stack.tcp.state(id)
        if state == .closed || state == .timeWait { return 0 }
        await runtime.readers.wait(id)
      }
    }
  }

  public func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await runtime.loop.run { () async throws(NetworkError) in
      var offset = 0
      let total = bytes.count
      while offset < total {
        try held()
        if let error = runtime.stack.tcp.error(id) { throw NetworkError(error) }
        let written: Int
        do throws(TCPError) {
          written = try bytes.withUnsafeBufferPointer { buffer throws(TCPError) in
            try runtime.stack.tcp.write(
              id, Span(_unsafeElements: buffer).extracting(offset..<total))
          }
        } catch {
          throw NetworkError(error)
        }
        offset += written
        if offset < total { await runtime.writers.wait(id) }
      }
    }
  }

  /// Keeps the bytes in the send buffer without copying them (`TCPLayer.write(_:holding:)`):
  /// they are copied once, into their segments.
  public func write(holding bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await runtime.loop.run { () async throws(NetworkError) in
      var offset = bytes.startIndex
      while offset < bytes.endIndex {
        try held()
        if let error = runtime.stack.tcp.error(id) { throw NetworkError(error) }
        do throws(TCPError) {
          offset += try runtime.stack.tcp.write(id, holding: bytes[offset...])
        } catch {
          throw NetworkError(error)
        }
        if offset < bytes.endIndex { await runtime.writers.wait(id) }
      }
    }
  }

  public func shutdownWrite() async throws(NetworkError) {
    try await runtime.loop.run { () throws(NetworkError) in
      try held()
      do throws(TCPError) { try runtime.stack.tcp.shutdownWrite(id) } catch {
        throw NetworkError(error)
      }
    }
  }

  public func setNoDelay(_ noDelay: Bool) async throws(NetworkError) {
    try await runtime.loop.run { () throws(NetworkError) in
      try held()
      do throws(TCPError) { try runtime.stack.tcp.setNagle(id, !noDelay) } catch {
        throw NetworkError(error)
      }
    }
  }

  public func close() async {
    try? await runtime.loop.run { () throws(NetworkError) in
      runtime.stack.tcp.close(id)
      runtime.readers.resumeAll(id)
      runtime.writers.resumeAll(id)
    }
  }

  public func abort() async {
    try? await runtime.loop.run { () throws(NetworkError) in
      runtime.stack.tcp.abort(id)
      runtime.readers.resumeAll(id)
      runtime.writers.resumeAll(id)
    }
  }
}

/// A UDP socket on the direct stack.
public struct DirectUDPSocket: UDPSocketHandle {
  let runtime: DirectStackRuntime
  let id: UDPEndpointID
  public let localPort: UInt16
  /// Whether it sends from a chosen address and port, only to its one peer
  /// (``DirectNetworkStack/bindUDP(from:to:)``).
  var hasChosenSource = false
  /// The address and port it sends from when it has a chosen source (the client's, or
  /// `--host-loopback`'s address with the socket's own port).
  public var chosenSource: SocketAddress? = nil

  public func receive() async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) {
    try await runtime.loop.run {
      () async throws(NetworkError) -> (payload: [UInt8], from: SocketAddress) in
      while true {
        guard runtime.stack.udp.endpoint(id) != nil else { throw .closed }
        if let datagram = runtime.stack.udp.receive(from: id) {
          return (datagram.payload, SocketAddress(datagram.source, datagram.sourcePort))
        }
        await runtime.datagramReaders.wait(id)
      }
    }
  }

  public func send(_ payload: [UInt8], to destination: SocketAddress) async throws(NetworkError) {
    try await runtime.loop.run { () throws(NetworkError) in
      do throws(UDPError) {
        if hasChosenSource {
          // Its peer only: the peer's answers are taken by the four numbers.
          guard let peer = runtime.stack.chosenSourceUDP.peer(of: id),
            peer.address == destination.address, peer.port == destination.port
          else { throw .noRoute }
          try runtime.stack.sendUDPFromChosenSource(
            payload.span, from: id, now: MonotonicClock.now())
        } else {
          try runtime.stack.sendUDP(
            payload.span, from: id, to: destination.address, port: destination.port,
            now: MonotonicClock.now())
        }
      } catch {
        throw NetworkError(error)
      }
    }
  }

  public func close() async {
    try? await runtime.loop.run { () throws(NetworkError) in
      runtime.stack.closeUDP(id)
      runtime.datagramReaders.resumeAll(id)
    }
  }
}

extension NetworkError {
  /// The application-facing error for a TCP failure.
  init(_ error: TCPError) {
    switch error {
    case .connectionRefused: self = .connectionRefused
    case .connectionReset: self = .connectionReset
    case .timedOut: self = .timedOut
    case .aborted, .invalidHandle, .notConnected: self = .closed
    case .addressInUse: self = .addressInUse
    case .tooManyConnections, .noMemory: self = .resourcesExhausted
    case .noRoute: self = .noRoute
    }
  }

  /// The application-facing error for a UDP failure.
  init(_ error: UDPError) {
    switch error {
    case .addressInUse: self = .addressInUse
    case .tooManyEndpoints: self = .resourcesExhausted
    case .invalidEndpoint: self = .closed
    case .messageTooLong: self = .messageTooLong
    case .noRoute: self = .noRoute
    }
  }
}
