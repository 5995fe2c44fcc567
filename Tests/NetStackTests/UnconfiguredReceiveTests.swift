import DHCP
import Ethernet
import IPv4
import NetCore
import NetStack
import TCP
import Testing
import UDP

/// While the DHCP client runs and the stack has no address, datagrams to the address a server
/// offers are delivered (a server may unicast its OFFER there, RFC 2131 §4.1): the DHCP client's
/// endpoint takes them, and nothing else answers anything sent to that address. IPv4 no longer
/// looks at UDP ports for this; the transports decide.
struct UnconfiguredReceiveTests {
  static let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
  static let serverMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
  static let server = IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24)
  static let offered = IPv4Address(10, 0, 0, 100)

  /// A stack with no address, its DHCP client started (its DISCOVER returned); IPv4 only, so
  /// that every frame it sends is an answer to what the test gave it.
  func makeStack(dhcp: Bool = true) throws -> (DirectStack, discover: [UInt8]?) {
    var configuration = DirectStackConfiguration(hardwareAddress: Self.ourMAC, seed: 7)
    configuration.ipv6Enabled = false
    var stack = DirectStack(configuration: configuration, now: .zero)
    guard dhcp else { return (stack, nil) }
    try stack.startDHCPClient(DHCPClient.Configuration(hardwareAddress: Self.ourMAC), now: .zero)
    let frames = drain(&stack)
    #expect(frames.count == 1)
    // Ethernet 14, IPv4 20, UDP 8: the DHCP message follows.
    return (stack, frames.first.map { Array($0[42...]) })
  }

  func drain(_ stack: inout DirectStack) -> [[UInt8]] {
    var frames: [[UInt8]] = []
    while let frame = stack.transmitQueue.popFirst() {
      frames.append(frame.withBytes { $0.copyToArray() })
    }
    return frames
  }

  /// Hands `stack` a frame from the server through one poll and returns what it answers.
  func receive(_ frame: [UInt8], _ stack: inout DirectStack) -> [[UInt8]] {
    var device = MemoryDevice()
    device.inbox.append(PacketBuffer(copying: frame.span))
    _ = stack.poll(now: .zero, device: &device)
    return device.takeSent().map { $0.withBytes { $0.copyToArray() } }
  }

  /// The server's frame to us carrying `transport` (its data the transport message) in IPv4.
  func frame(_ transport: PacketBuffer, _ protocolNumber: IPProtocolNumber, to address: IPv4Address)
    -> [UInt8]
  {
    IPv4Header(
      source: Self.server.address, destination: address, protocolNumber: protocolNumber,
      payloadLength: transport.count
    ).prepend(to: transport)
    EthernetHeader(destination: Self.ourMAC, source: Self.serverMAC, etherType: .ipv4)
      .prepend(to: transport)
    return transport.withBytes { $0.copyToArray() }
  }

  func udp(_ payload: [UInt8], from source: UInt16, to port: UInt16, address: IPv4Address)
    -> [UInt8]
  {
    let packet = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: source, destinationPort: port)
      .prepend(to: packet, source: .v4(Self.server.address), destination: .v4(address))
    return frame(packet, .udp, to: address)
  }

  @Test func anOfferUnicastToTheOfferedAddressReachesTheClient() throws {
    var (stack, discover) = try makeStack()
    var server = DHCPServer(
      configuration: DHCPServer.Configuration(
        address: Self.server, pool: Self.offered...IPv4Address(10, 0, 0, 103)))
    let discoverBytes = try #require(discover)
    let answer = server.receive(discoverBytes.span, now: .zero)
    let reply = try #require(answer)
    let offered = reply.message.yourAddress
    #expect((Self.offered...IPv4Address(10, 0, 0, 103)).contains(offered))
    // Unicast to the offered address, as passt does, whatever the broadcast flag asked.
    let offer = udp(
      reply.message.encoded, from: DHCPPort.server, to: DHCPPort.client, address: offered)
    let answers = receive(offer, &stack)
    #expect(stack.dhcpClient?.counters.offersReceived == 1)
    #expect(stack.dhcpClient?.counters.requestsSent == 1)
    #expect(answers.count == 1)  // the REQUEST
    #expect(stack.ipv4.counters.droppedNotForUs == 0)
  }

  @Test func nothingElseSentToTheOfferedAddressIsTakenOrAnswered() throws {
    var (stack, _) = try makeStack()
    // UDP to a closed port: no ICMP port unreachable.
    #expect(receive(udp([1, 2, 3], from: 5000, to: 9, address: Self.offered), &stack).isEmpty)
    #expect(stack.udp.counters.droppedNotForUs == 1 && stack.udp.counters.droppedNoPort == 0)
    // UDP from another port to the client's port reaches the DHCP client's endpoint, which
    // ignores what is not from a server's port.
    #expect(receive(udp([1, 2, 3], from: 5000, to: 68, address: Self.offered), &stack).isEmpty)
    #expect(stack.udp.counters.datagramsDelivered == 1)
    // A TCP SYN: no RST.
    let syn = PacketBuffer(capacity: PacketBuffer.defaultHeadroom)
    TCPHeader(
      sourcePort: 40000, destinationPort: 80, sequenceNumber: SequenceNumber(1000),
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 65535
    ).prepend(to: syn, source: .v4(Self.server.address), destination: .v4(Self.offered))
    #expect(receive(frame(syn, .tcp, to: Self.offered), &stack).isEmpty)
    #expect(stack.tcp.counters.segmentsReceived == 0)
    // An echo request: no reply.
    let echo = PacketBuffer(copying: [UInt8](repeating: 7, count: 8).span)
    ICMPv4Header.echo(reply: false, identifier: 1, sequence: 1).prepend(to: echo)
    #expect(receive(frame(echo, .icmp, to: Self.offered), &stack).isEmpty)
    #expect(stack.ipv4.icmpCounters.echoRequestsReceived == 0)
    // Another protocol: no protocol unreachable.
    let other = PacketBuffer(copying: [UInt8](repeating: 7, count: 8).span)
    #expect(receive(frame(other, IPProtocolNumber(rawValue: 47), to: Self.offered), &stack).isEmpty)
    #expect(stack.ipv4.counters.droppedNotForUs == 3)
  }

  @Test func withoutTheDHCPClientDatagramsForOtherAddressesStayOut() throws {
    var (stack, _) = try makeStack(dhcp: false)
    _ = try stack.udp.bind(port: 68)
    #expect(receive(udp([1], from: 67, to: 68, address: Self.offered), &stack).isEmpty)
    #expect(stack.ipv4.counters.droppedNotForUs == 1)
    #expect(stack.udp.counters.datagramsReceived == 0)
  }

  @Test func onceConfiguredDatagramsForOtherAddressesStayOut() throws {
    var (stack, _) = try makeStack()
    stack.configure(
      address: IPv4CIDR(address: IPv4Address(10, 0, 0, 50), prefixLength: 24),
      gateway: nil, now: .zero)
    _ = drain(&stack)
    #expect(receive(udp([1], from: 67, to: 68, address: Self.offered), &stack).isEmpty)
    #expect(stack.ipv4.counters.droppedNotForUs == 1)
    #expect(stack.udp.counters.datagramsReceived == 0)
  }
}
