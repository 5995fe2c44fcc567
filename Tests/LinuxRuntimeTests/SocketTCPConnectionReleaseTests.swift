import Glibc
import NetCore
import NetworkAPI
import Testing

@testable import LinuxRuntime

/// A connection of the socket backend gives up its descriptor once: after its first close or
/// abort, the calls of any copy of it (a splice's two directions and the relay that owns it
/// each hold one) never reach the descriptor number again, which the kernel hands to the next
/// socket opened. Each test puts a socket of its own on the released number and checks that
/// the later calls neither close it nor write into it.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SocketTCPConnectionReleaseTests {
  /// A connected pair on 127.0.0.1 of a stack on a loop of its own: the client's end and the
  /// accepted one.
  private func connectedPair() async throws
    -> (SocketTCPConnection, SocketTCPConnection, LoopThread)
  {
    let loop = try EventLoop()
    let stack = SocketNetworkStack(loop: loop, bindAddress: IPv4Address(127, 0, 0, 1))
    let thread = LoopThread(loop)
    let listener = try await stack.listen(port: 0, backlog: 8)
    async let accepted = listener.accept()
    let outgoing = try await stack.connect(
      to: SocketAddress(IPv4Address(127, 0, 0, 1), listener.localPort))
    let incoming = try await accepted
    await listener.close()
    return (outgoing, incoming, thread)
  }

  /// Thrown by an attempt when another socket of the process (a test running beside this one)
  /// took the released number first: the check cannot be made on that attempt.
  private struct NumberTaken: Error {}

  /// Runs `attempt` until one gets to make its check (at most 20 times): the tests run in
  /// parallel with others that open sockets, so the released number is not always free.
  private func retryingWhileTheNumberIsTaken(_ attempt: () async throws -> Void) async throws {
    for _ in 0..<20 {
      do {
        try await attempt()
        return
      } catch is NumberTaken {
        continue
      }
    }
    Issue.record("another socket took the released number in each of 20 attempts")
  }

  /// Puts a socket of a Unix stream pair on descriptor number `number` (free again) and
  /// returns that and the pair's other end; nil when another socket of the process took the
  /// number first.
  private func reuse(_ number: Int32) -> (reused: Int32, peer: Int32)? {
    var pair: [Int32] = [-1, -1]
    guard
      socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
        == 0
    else { return nil }
    if pair[1] == number { pair.swapAt(0, 1) }
    guard let reused = move(pair[0], to: number) else {
      Glibc.close(pair[1])
      return nil
    }
    return (reused, pair[1])
  }

  /// `descriptor` on number `number` (free): itself if the kernel gave it that number, else a
  /// duplicate there (the original closed); nil when another socket has the number.
  private func move(_ descriptor: Int32, to number: Int32) -> Int32? {
    if descriptor == number { return descriptor }
    let moved = fcntl(descriptor, F_DUPFD_CLOEXEC, number)
    Glibc.close(descriptor)
    guard moved == number else {
      if moved >= 0 { Glibc.close(moved) }
      return nil
    }
    return moved
  }

  @Test func aSecondCloseOrAbortLeavesASocketOnTheReusedNumberOpen() async throws {
    try await retryingWhileTheNumberIsTaken {
      let (outgoing, incoming, thread) = try await connectedPair()
      defer { thread.stop() }
      let number = incoming.descriptor
      let copy = incoming  // as each direction of a splice holds one
      await copy.abort()
      guard let (reused, peer) = reuse(number) else {
        await outgoing.close()
        throw NumberTaken()
      }
      defer {
        Glibc.close(reused)
        Glibc.close(peer)
      }
      await incoming.abort()
      await copy.close()
      await incoming.close()
      #expect(fcntl(reused, F_GETFD) != -1, "a later close or abort closed another socket")
      await outgoing.close()
    }
  }

  @Test func aWriteAfterTheCloseFailsAndLeavesTheReusedNumberAlone() async throws {
    try await retryingWhileTheNumberIsTaken {
      let (outgoing, incoming, thread) = try await connectedPair()
      defer { thread.stop() }
      let number = incoming.descriptor
      await incoming.close()
      guard let (reused, peer) = reuse(number) else {
        await outgoing.close()
        throw NumberTaken()
      }
      defer {
        Glibc.close(reused)
        Glibc.close(peer)
      }
      await #expect(throws: NetworkError.closed) { try await incoming.write([1, 2, 3][...]) }
      await #expect(throws: NetworkError.closed) { try await incoming.shutdownWrite() }
      var leaked = [UInt8](repeating: 0, count: 8)
      let count = recv(peer, &leaked, leaked.count, Int32(MSG_DONTWAIT))
      #expect(count == -1, "the closed connection's bytes reached another socket")
      await outgoing.close()
    }
  }

  /// The same for a UDP socket (a forwarder's flow socket is closed on expiry while its task
  /// still receives): a receive or send after the close fails instead of taking the datagrams
  /// of the socket now on the number, or sending from it.
  @Test func aReceiveAfterTheCloseOfAUDPSocketFailsAndTakesNothingOfTheReusedNumber()
    async throws
  {
    try await retryingWhileTheNumberIsTaken {
      let loop = try EventLoop()
      let stack = SocketNetworkStack(loop: loop, bindAddress: IPv4Address(127, 0, 0, 1))
      let thread = LoopThread(loop)
      defer { thread.stop() }
      let closed = try await stack.bindUDP(port: 0)
      let number = closed.descriptors[0]
      await closed.close()
      // Another socket, with a datagram waiting, on the released number.
      let other = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      var any = SocketNetworkStack.socketAddress(IPv4Address(127, 0, 0, 1), 0)
      let bound = withUnsafePointer(to: &any) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(other, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      try #require(bound == 0)
      let otherPort = try #require(SocketNetworkStack.localEndpoint(other)).port
      let sender = try await stack.bindUDP(port: 0)
      try await sender.send([42], to: SocketAddress(IPv4Address(127, 0, 0, 1), otherPort))
      guard let reused = move(other, to: number) else {
        await sender.close()
        throw NumberTaken()
      }
      defer { Glibc.close(reused) }
      await #expect(throws: NetworkError.closed) { _ = try await closed.receive() }
      await #expect(throws: NetworkError.closed) {
        try await closed.send([1], to: SocketAddress(IPv4Address(127, 0, 0, 1), sender.localPort))
      }
      await sender.close()
    }
  }
}
