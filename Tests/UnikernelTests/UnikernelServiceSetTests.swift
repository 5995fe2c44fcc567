import Applications
import NetCore
import NetSimulation
import NetStack
import TCP
import Testing
import UDP

@testable import UnikernelMain

/// The unikernel's whole service set (``UnikernelServices``) on a direct stack, checked the way
/// `scripts/unikernel-test` checks it from dom0 on Xen: the ports it serves are netstackd's
/// defaults; discard takes bytes, keeps the connection open and sends nothing; chargen sends
/// RFC 864's lines; UDP echo answers a client's port and not a system port. A client on a
/// second stack across the simulated link (virtual time), so that drift shows without Xen.
@Suite struct UnikernelServiceSetTests {
  static let server = IPAddress.v4(IPv4Address(10, 0, 0, 2))

  /// A client stack on the left, the unikernel's services on the right.
  static func network() throws -> SimulatedNetwork {
    var network = SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1),
        address: try IPv4CIDR(parsing: "10.0.0.1/24"), seed: 11),
      right: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 2),
        address: try IPv4CIDR(parsing: "10.0.0.2/24"), seed: 12),
      seed: 13)
    try UnikernelServices.start(on: &network.right, platform: "a simulated link")
    return network
  }

  /// Opens a TCP connection from the left stack to the right one's `port`, established.
  static func connect(_ network: inout SimulatedNetwork, port: UInt16) throws -> TCPConnectionID {
    let id = try network.left.connectTCP(to: server, port: port, now: network.now)
    network.run(until: network.now + .seconds(10)) { network in
      network.left.tcp.info(id)?.state != .established
    }
    try #require(network.left.tcp.info(id)?.state == .established)
    return id
  }

  /// Reads what the left stack's connection has.
  static func read(_ network: inout SimulatedNetwork, _ id: TCPConnectionID) -> [UInt8] {
    var received: [UInt8] = []
    var scratch = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = scratch.withUnsafeMutableBytes {
        (try? network.left.tcp.read(id, into: $0, now: network.now)) ?? 0
      }
      if count == 0 { return received }
      received += scratch[0..<count]
    }
  }

  /// RFC 864's lines, written out here rather than taken from `ChargenSession`: line i holds
  /// the 72 printable characters from 32 + i on (wrapping within the 95), then CR LF.
  static func chargenLines(_ count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    for line in 0..<count {
      let printable = (32...126).map { UInt8($0) }
      for column in 0..<72 { bytes.append(printable[(line + column) % 95]) }
      bytes += [13, 10]
    }
    return bytes
  }

  @Test func itServesNetstackdsDefaultPorts() throws {
    let network = try Self.network()
    #expect(network.right.tcp.listeningPorts == [7, 9, 19, 80])
    #expect(network.right.udp.boundPorts == [7])
    #expect(
      UnikernelServices.summary == "icmp echo, tcp http:80,echo:7,discard:9,chargen:19, udp echo:7")
  }

  /// 100,000 bytes are all taken (acknowledged), the connection stays open and nothing comes
  /// back; after the client's FIN the server closes too, still having sent nothing.
  @Test func discardTakesBytesKeepsTheConnectionAndAnswersNothing() throws {
    var network = try Self.network()
    let id = try Self.connect(&network, port: 9)
    let data = [UInt8](repeating: 0x5A, count: 100_000)
    var sent = 0
    network.run(until: network.now + .seconds(60)) { network in
      while sent < data.count,
        let written = try? network.left.tcp.write(id, data.span.extracting(sent..<data.count)),
        written > 0
      {
        sent += written
      }
      return sent < data.count || network.left.tcp.info(id)!.unacknowledgedBytes > 0
    }
    #expect(sent == data.count)
    #expect(network.left.tcp.info(id)?.unacknowledgedBytes == 0, "every byte acknowledged")
    network.advance(by: .seconds(5))
    let connection = try #require(network.left.tcp.info(id))
    #expect(connection.state == .established, "discard keeps the connection open")
    #expect(connection.bytesReceived == 0 && Self.read(&network, id).isEmpty, "nothing came back")
    #expect(network.right.services.sessionCount == 1)

    try network.left.tcp.shutdownWrite(id)
    network.run(until: network.now + .seconds(30)) { network in
      !(network.left.tcp.info(id)?.isAtEndOfStream ?? true)
    }
    #expect(
      network.left.tcp.info(id)?.isAtEndOfStream == true, "the server closed after our FIN")
    #expect(network.left.tcp.info(id)?.bytesReceived == 0)
    network.left.tcp.close(id)
    network.advance(by: .seconds(5))
    #expect(network.right.services.sessionCount == 0)
    #expect(network.right.services.counters.closed == 1)
  }

  /// The first 200 lines (past the 95 after which the pattern repeats) are RFC 864's.
  @Test func chargenSendsTheRFC864Lines() throws {
    var network = try Self.network()
    let id = try Self.connect(&network, port: 19)
    let expected = Self.chargenLines(200)
    var received: [UInt8] = []
    network.run(until: network.now + .seconds(30)) { network in
      received += Self.read(&network, id)
      return received.count < expected.count
    }
    try #require(received.count >= expected.count)
    #expect(
      Array(received[0..<74])
        == Array(
          " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n".utf8))
    let matches = Array(received[0..<expected.count]) == expected
    #expect(matches, "the lines differ from RFC 864's")
    network.left.tcp.abort(id)
    network.advance(by: .seconds(5))
    #expect(network.right.services.sessionCount == 0)
  }

  /// A datagram from a client's port comes back byte for byte; one from a system port (19,
  /// chargen's) and one from the service's own port do not, and both refusals are counted
  /// and shown in the counter report the console prints at shutdown.
  @Test func udpEchoAnswersClientsAndNotServicePorts() throws {
    var network = try Self.network()
    let payload = Array("hello from a client port".utf8)
    var replies: [UInt16: [UInt8]] = [:]
    var endpoints: [(port: UInt16, id: UDPEndpointID)] = []
    for port: UInt16 in [40_000, 19, 7] {
      endpoints.append((port, try network.left.udp.bind(port: port)))
    }
    for (_, endpoint) in endpoints {
      try network.left.sendUDP(
        payload.span, from: endpoint, to: Self.server, port: 7, now: network.now)
    }
    network.advance(by: .seconds(5))
    for (port, endpoint) in endpoints {
      while let datagram = network.left.udp.receive(from: endpoint) {
        #expect(datagram.sourcePort == 7 && datagram.source == Self.server)
        replies[port] = datagram.payload
      }
    }
    #expect(replies == [40_000: payload], "only the client port's datagram came back, unchanged")
    let counters = try #require(network.right.udpServices.udpEchoCounters)
    #expect(counters.datagramsReceived == 3 && counters.datagramsEchoed == 1)
    #expect(counters.refusedFromServicePort == 2)
    var lines: [String] = []
    CounterReport.forEachLine(of: network.right) { lines.append($0) }
    #expect(lines.contains("  udp_echo.datagrams_echoed 1"))
    #expect(lines.contains("  udp_echo.refused_service_port 2"))
    #expect(
      !lines.contains { $0.hasPrefix("  udp_echo.refused_source_address") }, "zeros are left out")
    #expect(
      network.right.takeReadableUDPEndpoints().isEmpty,
      "the service's port is not the application API's")
  }
}
