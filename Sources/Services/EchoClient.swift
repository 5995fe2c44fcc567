import NetworkAPI

/// A client for an echo server: connects, sends `count` bytes of a known pattern while
/// reading what comes back, half-closes, reads to the end, and checks that the bytes came
/// back identical. The daemon's `--echo-client` uses it to show the stack as a TCP client.
public struct EchoClient: Sendable {
  public let server: SocketAddress
  public let count: Int

  public init(server: SocketAddress, count: Int) {
    self.server = server
    self.count = count
  }

  /// What happened.
  public struct Report: Sendable, CustomStringConvertible {
    public var sent: Int
    public var received: Int
    /// The first byte that differed, if one did.
    public var firstDifference: Int?

    public var identical: Bool { firstDifference == nil && received == sent }

    public var description: String {
      let verdict =
        identical
        ? "identical"
        : firstDifference.map { "differs from byte \($0)" } ?? "short by \(sent - received) bytes"
      return "sent \(sent) bytes, received \(received) bytes, \(verdict)"
    }
  }

  /// The byte at `position` of the pattern.
  static func byte(at position: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: position &* 7 &+ position >> 8)
  }

  public func run<Stack: NetworkStack>(on stack: Stack) async throws(NetworkError) -> Report {
    let connection = try await stack.connect(to: server)
    let count = self.count
    let received = await withTaskGroup(of: (Int, Int?).self) { group -> (Int, Int?) in
      group.addTask {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var position = 0
        while position < count {
          let length = min(buffer.count, count - position)
          for index in 0..<length { buffer[index] = EchoClient.byte(at: position + index) }
          guard (try? await connection.write(buffer[0..<length])) != nil else { break }
          position += length
        }
        try? await connection.shutdownWrite()
        return (0, nil)
      }
      group.addTask {
        var received = 0
        var difference: Int? = nil
        // The echo is only compared: it is looked at where it arrived, not copied out.
        while let length = try? await connection.read(inPlace: { bytes in
          for index in 0..<bytes.count
          where difference == nil && bytes[index] != EchoClient.byte(at: received + index) {
            difference = received + index
          }
          received += bytes.count
          return bytes.count
        }), length > 0 {}
        return (received, difference)
      }
      var result: (Int, Int?) = (0, nil)
      for await (received, difference) in group where received > 0 || difference != nil {
        result = (received, difference)
      }
      return result
    }
    await connection.close()
    return Report(sent: count, received: received.0, firstDifference: received.1)
  }
}
