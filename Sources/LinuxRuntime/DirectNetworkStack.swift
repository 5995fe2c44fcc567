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
    try await runtime.loop.run { () async throws(NetworkError) -> DirectTCPConnection in
      let id: TCPConnectionID
      do throws(TCPError) {
        id = try runtime.stack.connectTCP(
          to: address.address, port: address.port, now: MonotonicClock.now())
      } catch {
        throw NetworkError(error)
      }
      while true {
        guard let connection = runtime.stack.tcp.connection(id) else { throw .closed }
        if let error = connection.error {
          runtime.stack.tcp.release(id)
          throw NetworkError(error)
        }
        if connection.state.isSynchronized {
          return DirectTCPConnection(runtime: runtime, id: id, connection: connection)
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
        if let connection = runtime.stack.tcp.accept(id) {
          return DirectTCPConnection(
            runtime: runtime, id: connection, connection: runtime.stack.tcp.connection(connection)!)
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

  init(runtime: DirectStackRuntime, id: TCPConnectionID, connection: TCPConnection) {
    self.runtime = runtime
    self.id = id
    localAddress = SocketAddress(connection.tuple.localAddress, connection.tuple.localPort)
    remoteAddress = SocketAddress(connection.tuple.remoteAddress, connection.tuple.remotePort)
  }

  /// The connection, while the application holds it.
  private func held() throws(NetworkError) -> TCPConnection {
    guard runtime.stack.tcp.isHeldByApplication(id),
      let connection = runtime.stack.tcp.connection(id)
    else {
      throw .closed
    }
    return connection
  }

  public func read(into buffer: inout [UInt8]) async throws(NetworkError) -> Int {
    try await runtime.loop.run { () async throws(NetworkError) -> Int in
      while true {
        let connection = try held()
        if connection.readableBytes > 0 {
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
        if connection.isAtEndOfStream { return 0 }
        if let error = connection.error { throw NetworkError(error) }
        if connection.state == .closed || connection.state == .timeWait { return 0 }
        await runtime.readers.wait(id)
      }
    }
  }

  public func write(_ bytes: ArraySlice<UInt8>) async throws(NetworkError) {
    try await runtime.loop.run { () async throws(NetworkError) in
      var offset = 0
      let total = bytes.count
      while offset < total {
        let connection = try held()
        if let error = connection.error { throw NetworkError(error) }
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

  public func shutdownWrite() async throws(NetworkError) {
    try await runtime.loop.run { () throws(NetworkError) in
      _ = try held()
      do throws(TCPError) { try runtime.stack.tcp.shutdownWrite(id) } catch {
        throw NetworkError(error)
      }
    }
  }

  public func setNoDelay(_ noDelay: Bool) async throws(NetworkError) {
    try await runtime.loop.run { () throws(NetworkError) in
      _ = try held()
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
        try runtime.stack.sendUDP(
          payload.span, from: id, to: destination.address, port: destination.port,
          now: MonotonicClock.now())
      } catch {
        throw NetworkError(error)
      }
    }
  }

  public func close() async {
    try? await runtime.loop.run { () throws(NetworkError) in
      runtime.stack.udp.close(id)
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
