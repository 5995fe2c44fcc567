import NetCore
import NetStack
import NetworkAPI
import TCP
import UDP

extension DirectNetworkStack {
  /// Opens a TCP connection to `address` from a chosen local address and port (a published
  /// port's connection into the guest, showing it the real client; see
  /// `DirectStack.connectTCP(to:port:from:sourcePort:now:)`). A RST from the peer is
  /// `connectionRefused`.
  public func connect(to address: SocketAddress, from source: SocketAddress)
    async throws(NetworkError) -> DirectTCPConnection
  {
    try await connect { (stack: inout DirectStack) throws(TCPError) -> TCPConnectionID in
      try stack.connectTCP(
        to: address.address, port: address.port, from: source.address, sourcePort: source.port,
        now: MonotonicClock.now())
    }
  }

  /// Binds a UDP endpoint of the stack to `port` now, without suspending: for a caller on the
  /// loop's thread, or before the loop runs (the daemon's start-up).
  public func bindUDPImmediately(port: UInt16) throws(NetworkError) -> DirectUDPSocket {
    do throws(UDPError) {
      let id = try runtime.stack.udp.bind(port: port)
      return DirectUDPSocket(
        runtime: runtime, id: id, localPort: runtime.stack.udp.endpoint(id)!.localPort)
    } catch {
      throw NetworkError(error)
    }
  }
}

extension DirectNetworkStack {
  /// A UDP socket of the stack whose datagrams to `peer` leave from `source` (its port 0: an
  /// ephemeral one), and which receives `peer`'s answers to it: a published port's flow
  /// showing the guest its client (`DirectStack+ChosenSourceUDP.swift`). It sends to `peer`
  /// only. `addressInUse` when another socket has the same four numbers.
  public func bindUDP(from source: SocketAddress, to peer: SocketAddress)
    async throws(NetworkError) -> DirectUDPSocket
  {
    try await runtime.loop.run { () throws(NetworkError) -> DirectUDPSocket in
      do throws(UDPError) {
        let id = try runtime.stack.bindUDP(
          from: source.address, sourcePort: source.port, peer: peer.address, peerPort: peer.port)
        return DirectUDPSocket(
          runtime: runtime, id: id, localPort: runtime.stack.udp.endpoint(id)!.localPort,
          hasChosenSource: true,
          chosenSource: runtime.stack.chosenUDPSource(of: id).map { SocketAddress($0, $1) })
      } catch {
        throw NetworkError(error)
      }
    }
  }
}
