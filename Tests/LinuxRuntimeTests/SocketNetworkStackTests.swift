import Glibc
import NetCore
import NetworkAPI
import Testing

@testable import LinuxRuntime

/// The socket backend's application API (`SocketNetworkStack`, `netstackd --backend socket`)
/// over both families, against the test process's own loopback: a listener and a UDP socket
/// bound to 127.0.0.1 and ::1 take connections and datagrams of either family and report the
/// peer as what it is (RFC 3493 §3.3: no IPv4-mapped addresses, the IPv6 sockets being
/// IPv6-only).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SocketNetworkStackTests {
  private static let both: [IPAddress] = [.v4(IPv4Address(127, 0, 0, 1)), .v6(.loopback)]

  /// A stack bound to 127.0.0.1 and ::1 on a loop of its own.
  private func running() throws -> (SocketNetworkStack, LoopThread) {
    let loop = try EventLoop()
    return (SocketNetworkStack(loop: loop, bindAddresses: Self.both), LoopThread(loop))
  }

  @Test(arguments: both)
  func aListenerAcceptsEitherFamilyAndNamesThePeer(client: IPAddress) async throws {
    let (stack, thread) = try running()
    defer { thread.stop() }
    let listener = try await stack.listen(port: 0, backlog: 8)
    #expect(listener.localPort != 0)
    async let accepted = listener.accept()
    let outgoing = try await stack.connect(to: SocketAddress(client, listener.localPort))
    let incoming = try await accepted
    #expect(incoming.remoteAddress == outgoing.localAddress)
    #expect(incoming.remoteAddress.address == client)
    #expect(incoming.localAddress == SocketAddress(client, listener.localPort))
    #expect(outgoing.remoteAddress == SocketAddress(client, listener.localPort))
    try await outgoing.write([1, 2, 3][...])
    var buffer = [UInt8](repeating: 0, count: 16)
    #expect(try await incoming.read(into: &buffer) == 3)
    #expect(buffer[0..<3] == [1, 2, 3])
    await outgoing.close()
    await incoming.close()
    await listener.close()
  }

  @Test(arguments: both)
  func aUDPSocketAnswersEitherFamilyFromItsOwnAddress(client: IPAddress) async throws {
    let (stack, thread) = try running()
    defer { thread.stop() }
    let server = try await stack.bindUDP(port: 0)
    let peer = try await stack.bindUDP(port: 0)
    try await peer.send([7, 8], to: SocketAddress(client, server.localPort))
    let (payload, source) = try await server.receive()
    #expect(payload == [7, 8])
    #expect(source == SocketAddress(client, peer.localPort))
    try await server.send([9], to: source)
    let (answer, from) = try await peer.receive()
    #expect(answer == [9])
    #expect(from == SocketAddress(client, server.localPort))
    await server.close()
    await peer.close()
  }

  /// An answer leaves from the bound address a client most likely sent to: of the
  /// destination's family and scope (loopback or not), the longest matching prefix.
  @Test(arguments: [
    ("::1", 3), ("fd77::9", 2), ("2001:db8::1", 2), ("127.0.0.1", 1), ("127.8.0.1", 1),
    ("10.77.0.1", 0), ("192.0.2.1", 0),
  ])
  func anAnswerLeavesFromTheBoundAddressNearestItsDestination(destination: String, index: Int)
    throws
  {
    let stack = SocketNetworkStack(
      loop: try EventLoop(),
      bindAddresses: [
        .v4(IPv4Address(10, 77, 0, 2)), .v4(IPv4Address(127, 0, 0, 1)),
        .v6(try IPv6Address(parsing: "fd77::2")), .v6(.loopback),
      ])
    let address: IPAddress =
      destination.contains(":")
      ? .v6(try IPv6Address(parsing: destination)) : .v4(try IPv4Address(parsing: destination))
    #expect(stack.sourceIndex(for: address) == index)
    let onlyIPv4 = SocketNetworkStack(loop: try EventLoop(), bindAddress: IPv4Address(127, 0, 0, 1))
    #expect(onlyIPv4.sourceIndex(for: address) == (address.isIPv4 ? 0 : nil))
  }

  @Test func aUDPSocketWithoutAnIPv6AddressRefusesAnIPv6Destination() async throws {
    let loop = try EventLoop()
    let stack = SocketNetworkStack(loop: loop, bindAddress: IPv4Address(127, 0, 0, 1))
    let thread = LoopThread(loop)
    defer { thread.stop() }
    let socket = try await stack.bindUDP(port: 0)
    await #expect(throws: NetworkError.other("the socket backend has no IPv6 address bound")) {
      try await socket.send([1], to: SocketAddress(.v6(.loopback), 9))
    }
    await socket.close()
  }
}
