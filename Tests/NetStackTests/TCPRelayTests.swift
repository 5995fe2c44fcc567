import Ethernet
import IPv4
import NetCore
import NetStack
import TCP
import Testing

/// The stack's side of the relay's TCP (`DirectStack+TCPRelay.swift`): a guest's SYN to
/// another host is a pending open, not answered until the host side says; accepted, the
/// SYN-ACK comes from the address the guest asked for; refused, a RST; unreachable, ICMP
/// destination unreachable quoting the SYN (RFC 1122 §3.2.2.1). The guest's SYN is a Linux
/// client's (MSS 1460, SACK permitted, timestamps, window scale 7).
struct TCPRelayTests {
  let gateway = RelayGatewayTests()

  /// The guest's SYN from port 40000 to `destination`:80.
  func syn(to destination: IPv4Address, sequence: UInt32 = 1_000_000) -> [UInt8] {
    var options = TCPOptions()
    options.maximumSegmentSize = 1460
    options.sackPermitted = true
    options.windowScale = 7
    options.timestamp = TCPTimestampOption(value: 7000, echoReply: 0)
    let header = TCPHeader(
      sourcePort: 40000, destinationPort: 80, sequenceNumber: SequenceNumber(sequence),
      acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 64240, options: options)
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + header.length)
    header.prepend(
      to: packet, source: .v4(RelayGatewayTests.guest), destination: .v4(destination))
    return gateway.frame(packet, .tcp, to: destination)
  }

  /// The TCP segment of a frame the stack sent.
  func segment(_ frame: [UInt8]) throws -> (flags: TCPFlags, ack: SequenceNumber, mss: UInt16?) {
    let packet = try IPv4Packet(checking: frame.span.extracting(droppingFirst: 14))
    let segment = try TCPSegment(checking: packet.payload)
    return (segment.flags, segment.acknowledgmentNumber, segment.options.maximumSegmentSize)
  }

  @Test func aSynToAnotherHostWaitsAndTheAcceptedOpenIsAnsweredFromThatHost() throws {
    var stack = gateway.makeStack()
    #expect(gateway.receive(syn(to: RelayGatewayTests.remote), &stack).isEmpty)
    #expect(gateway.receive(syn(to: RelayGatewayTests.remote), &stack).isEmpty, "absorbed")
    #expect(stack.relay?.counters.tcpSegmentsRelayed == 2)
    #expect(stack.relay?.counters.droppedUnsupportedProtocol == 0)
    let opens = stack.takeRelayedTCPOpens()
    #expect(opens.count == 1)
    #expect(opens.first?.tuple.localAddress == .v4(RelayGatewayTests.remote))
    #expect(opens.first?.tuple.remoteAddress == .v4(RelayGatewayTests.guest))
    let connection = stack.acceptRelayedTCPOpen(opens[0].id, now: .zero)
    #expect(connection != nil)
    var device = MemoryDevice()
    _ = stack.poll(now: .zero, device: &device)
    let sent = device.takeSent().map { $0.withBytes { $0.copyToArray() } }
    #expect(sent.count == 1)
    let header = try gateway.ipv4(sent[0])
    #expect(header.source == RelayGatewayTests.remote)
    #expect(header.destination == RelayGatewayTests.guest)
    let answer = try segment(sent[0])
    #expect(answer.flags == [.syn, .ack])
    #expect(answer.ack == SequenceNumber(1_000_001))
    #expect(stack.tcp.isHeldByApplication(connection!))
  }

  @Test func aRefusedOpenIsAnsweredWithAReset() throws {
    var stack = gateway.makeStack()
    _ = gateway.receive(syn(to: RelayGatewayTests.remote), &stack)
    let open = stack.takeRelayedTCPOpens()[0]
    stack.refuseRelayedTCPOpen(open.id, now: .zero)
    var device = MemoryDevice()
    _ = stack.poll(now: .zero, device: &device)
    let sent = device.takeSent().map { $0.withBytes { $0.copyToArray() } }
    #expect(sent.count == 1)
    #expect(try gateway.ipv4(sent[0]).source == RelayGatewayTests.remote)
    let answer = try segment(sent[0])
    #expect(answer.flags == [.rst, .ack])
    #expect(answer.ack == SequenceNumber(1_000_001))
  }

  @Test func anUnreachableOpenIsAnsweredWithICMPQuotingTheSyn() throws {
    var stack = gateway.makeStack()
    _ = gateway.receive(syn(to: RelayGatewayTests.remote), &stack)
    let open = stack.takeRelayedTCPOpens()[0]
    stack.rejectRelayedTCPOpen(open.id, code: .host, now: .zero)
    var device = MemoryDevice()
    _ = stack.poll(now: .zero, device: &device)
    let sent = device.takeSent().map { $0.withBytes { $0.copyToArray() } }
    #expect(sent.count == 1)
    let header = try gateway.ipv4(sent[0])
    #expect(header.protocolNumber == .icmp)
    #expect(header.destination == RelayGatewayTests.guest)
    let message = gateway.icmp(sent[0])
    #expect(message[0] == 3 && message[1] == 1, "destination unreachable, host unreachable")
    // The quote: the SYN's IPv4 header (to the remote host), then its ports and sequence.
    let quoted = Array(message[8...])
    #expect(Array(quoted[16..<20]) == [192, 0, 2, 7])
    #expect(Array(quoted[20..<28]) == [0x9C, 0x40, 0x00, 0x50, 0x00, 0x0F, 0x42, 0x40])
    #expect(stack.tcp.pendingOpens?.count == 0)
  }

  @Test func aDeniedDestinationIsRefusedBeforeItIsAnOpen() throws {
    var policy = RelayDestinationPolicy(guestSubnet: RelayGatewayTests.subnet)
    _ = policy.deny(IPv4CIDR(address: RelayGatewayTests.remote, prefixLength: 32))
    var stack = gateway.makeStack(
      relay: RelayGateway(policy: policy, dnsAddress: RelayGatewayTests.dns))
    let sent = gateway.receive(syn(to: RelayGatewayTests.remote), &stack)
    #expect(sent.count == 1)
    #expect(gateway.icmp(sent[0]).prefix(2) == [3, 13])
    #expect(stack.takeRelayedTCPOpens().isEmpty)
    #expect(stack.relay?.counters.refusedDenied == 1)
  }
}
