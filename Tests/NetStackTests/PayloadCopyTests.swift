import Applications
import NetCore
import NetSimulation
import NetStack
import TCP
import Testing

/// One copy each way (issue 15), counted by the TCP layer: a bulk transfer into the discard
/// service copies each received byte once (segment → receive buffer; the service looks at it
/// in place), and one out of chargen copies each sent byte once (its pattern is held by the
/// send buffer, then copied into segments). Whole stacks in virtual time, with no loss, so
/// that nothing is retransmitted or reordered.
@Suite struct PayloadCopyTests {
  /// Two stacks whose receive buffers are 1 MiB from the start, so that the send buffers
  /// (sized from the peer's window) have room for whole held arrays; with a window of a few
  /// segments every write is shorter than `TCPSendBuffer.minimumHeld` and copied.
  static func network() throws -> SimulatedNetwork {
    var tcp = TCPConfiguration()
    tcp.initialReceiveBufferSize = 1 << 20
    return SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: try IPv4CIDR(parsing: "10.0.0.1/24"), seed: 1, tcp: tcp),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 2, tcp: tcp),
      seed: 3)
  }

  static func connect(_ network: inout SimulatedNetwork, port: UInt16) throws -> TCPConnectionID {
    var ipv4 = network.left.ipv4
    let id = try network.left.tcp.connect(
      to: .v4(IPv4Address(10, 0, 0, 2)), port: port, now: network.now, network: &ipv4)
    network.left.ipv4 = ipv4
    return id
  }

  @Test func bulkIntoDiscardCopiesEachByteOnceEachSide() throws {
    var network = try Self.network()
    try network.right.startService(.discard, port: 9)
    let id = try Self.connect(&network, port: 9)
    // 8 MiB from one 256 KiB array the sender holds rather than copies.
    let total = 8 << 20
    let payload = (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var written = 0
    network.run(until: network.now + .seconds(60)) { network in
      while written < total {
        let offset = written % payload.count
        let end = min(payload.count, offset + total - written)
        let taken = (try? network.left.tcp.write(id, holding: payload[offset..<end])) ?? 0
        written += taken
        if taken == 0 { break }
      }
      return network.right.tcp.counters.receiveBytesTakenInPlace < UInt64(total)
    }
    let sender = network.left.tcp.counters
    let receiver = network.right.tcp.counters
    #expect(written == total)
    #expect(sender.segmentsRetransmitted == 0 && receiver.outOfOrderSegments == 0)
    // Sent: held, never copied into the send buffer; copied once, into the segments.
    #expect(sender.sendBytesHeld + sender.sendBytesCopiedIn == UInt64(total))
    #expect(sender.sendBytesCopiedIn < UInt64(total / 50), "most writes are held")
    #expect(sender.sendBytesCopiedOut == UInt64(total))
    // Received: copied once, into the receive buffer; discard took it there.
    #expect(receiver.receiveBytesCopiedIn == UInt64(total))
    #expect(receiver.receiveBytesTakenInPlace == UInt64(total))
    #expect(receiver.receiveBytesCopiedOut == 0 && receiver.receiveBytesReordered == 0)
  }

  @Test func bulkOutOfChargenCopiesEachByteOnceEachSide() throws {
    var network = try Self.network()
    try network.right.startService(.chargen, port: 19)
    let id = try Self.connect(&network, port: 19)
    let total = 8 << 20
    var received: [UInt8] = []
    received.reserveCapacity(total)
    network.run(until: network.now + .seconds(60)) { network in
      _ = try? network.left.tcp.consume(id, now: network.now) { bytes in
        let taken = min(bytes.count, total - received.count)
        for index in 0..<taken { received.append(bytes[index]) }
        return taken
      }
      return received.count < total
    }
    #expect(received.count == total)
    // The bytes are chargen's pattern, in order.
    let pattern = ChargenSession.pattern
    #expect(received.indices.allSatisfy { received[$0] == pattern[$0 % pattern.count] })
    let sender = network.right.tcp.counters
    let receiver = network.left.tcp.counters
    var sent: UInt64 = 0
    network.right.tcp.forEachConnection { _, info in sent += info.bytesSent }
    #expect(sender.segmentsRetransmitted == 0 && receiver.outOfOrderSegments == 0)
    // Chargen's pattern is held by the send buffer (a short write now and then is copied);
    // every byte sent was copied once, into its segment.
    #expect(sender.sendBytesCopiedIn < sender.sendBytesHeld / 20, "most writes are held")
    #expect(sender.sendBytesCopiedOut == sent)
    // Every byte that arrived was copied once, into the receive buffer, and read there.
    let waiting = UInt64(network.left.tcp.readableBytes(id))
    #expect(receiver.receiveBytesCopiedIn == UInt64(total) + waiting)
    #expect(receiver.receiveBytesTakenInPlace == UInt64(total))
    #expect(receiver.receiveBytesCopiedOut == 0)
  }

  @Test func readIntoTheApplicationsBufferIsTheSecondCopy() throws {
    var network = try Self.network()
    try network.right.startService(.chargen, port: 19)
    let id = try Self.connect(&network, port: 19)
    var buffer = [UInt8](repeating: 0, count: 65536)
    var read = 0
    network.run(until: network.now + .seconds(10)) { network in
      let now = network.now
      read +=
        buffer.withUnsafeMutableBytes { (try? network.left.tcp.read(id, into: $0, now: now)) ?? 0 }
      return read < 1 << 20
    }
    let counters = network.left.tcp.counters
    #expect(counters.receiveBytesCopiedOut == UInt64(read))
    #expect(counters.receiveBytesTakenInPlace == 0)
  }
}
