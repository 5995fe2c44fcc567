import ARP
import DHCP
import IPv4
import NetCore
import NetSimulation
import NetStack
import Testing

/// A stack with a DHCP server and a stack with a DHCP client on one simulated link, in virtual
/// time: the client's address comes and is used, renewed, released; an address someone already
/// answers for is declined; a link that loses frames only delays the lease.
struct SimulatedDHCPTests {
  static let serverAddress = IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24)
  static let pool = IPv4Address(10, 0, 0, 100)...IPv4Address(10, 0, 0, 110)
  static let clientMAC = MACAddress(0x02, 0, 0, 0, 0, 2)

  /// Left: 10.0.0.1/24 serving `pool` (or what `server` says); right: no address, a DHCP client.
  static func network(
    server: DHCPServer.Configuration? = nil, impairment: ImpairmentConfiguration = .init(),
    seed: UInt64 = 1
  ) throws -> SimulatedNetwork {
    var network = SimulatedNetwork(
      left: DirectStackConfiguration(
        hardwareAddress: MACAddress(0x02, 0, 0, 0, 0, 1), address: serverAddress, seed: seed),
      right: DirectStackConfiguration(hardwareAddress: clientMAC, seed: seed &+ 100),
      impairment: impairment, seed: seed)
    var configuration = server ?? DHCPServer.Configuration(address: serverAddress, pool: pool)
    if server == nil {
      configuration.leaseTime = .seconds(60)
      configuration.domainNameServers = [IPv4Address(10, 0, 0, 53)]
    }
    try network.left.startDHCPServer(configuration)
    var client = DHCPClient.Configuration(hardwareAddress: clientMAC)
    client.seed = seed
    try network.right.startDHCPClient(client, now: network.now)
    return network
  }

  /// Runs until the client reports a lease; returns it.
  static func waitForLease(_ network: inout SimulatedNetwork, within: Interval) -> DHCPLease? {
    var lease: DHCPLease?
    network.run(until: network.now + within) { network in
      for event in network.right.takeDHCPEvents() {
        if case .bound(let bound) = event { lease = bound }
      }
      return lease == nil
    }
    return lease
  }

  @Test func clientGetsAnAddressFromTheServerAndUsesIt() throws {
    var network = try Self.network()
    #expect(network.right.ipv4.address == nil)
    let lease = try #require(Self.waitForLease(&network, within: .seconds(10)))
    #expect(lease.address == IPv4CIDR(address: IPv4Address(10, 0, 0, 100), prefixLength: 24))
    #expect(lease.router == Self.serverAddress.address)
    #expect(lease.domainNameServers == [IPv4Address(10, 0, 0, 53)])
    #expect(network.right.ipv4.address == lease.address)
    #expect(network.right.ipv4.gateway == Self.serverAddress.address)
    #expect(network.left.dhcpServer?.boundLeases.map(\.hardwareAddress) == [Self.clientMAC])
    // Both ports are DHCP's, not the application's.
    #expect(network.right.udp.boundPorts == [68] && network.left.udp.boundPorts == [67])
    #expect(network.right.takeReadableUDPEndpoints().isEmpty)

    // The server pings its client at the new address.
    let payload: [UInt8] = [1, 2, 3]
    try network.left.ipv4.sendEchoRequest(
      to: lease.address.address, identifier: 1, sequence: 1, payload: payload.span,
      now: network.now)
    network.run(until: network.now + .milliseconds(100))
    #expect(network.left.ipv4.echoReplies.popFirst()?.source == lease.address.address)

    // Renewals at T1 (30 s) keep it, for several lease times.
    var renewals = 0
    var lost = false
    network.run(until: network.now + .seconds(200)) { network in
      for event in network.right.takeDHCPEvents() {
        if case .renewed = event { renewals += 1 }
        if case .lost = event { lost = true }
      }
      return true
    }
    #expect(renewals >= 6)
    #expect(!lost)
    #expect(network.right.ipv4.address == lease.address)

    // A release frees it on the server and withdraws it on the client.
    network.right.releaseDHCPLease(now: network.now)
    #expect(network.right.ipv4.address == nil)
    network.run(until: network.now + .milliseconds(100))
    #expect(network.left.dhcpServer?.leases.isEmpty == true)
  }

  @Test func theClientProbesWithSenderZeroAndDeclinesATakenAddress() throws {
    // The server believes it is 10.0.0.50 and offers 10.0.0.1, which the left stack already
    // has: the client's ARP probe is answered, so it declines.
    var configuration = DHCPServer.Configuration(
      address: IPv4CIDR(address: IPv4Address(10, 0, 0, 50), prefixLength: 24),
      pool: IPv4Address(10, 0, 0, 1)...IPv4Address(10, 0, 0, 2))
    configuration.router = nil
    var network = try Self.network(server: configuration)
    var probes: [ARPMessage] = []
    network.trace = { side, frame, _ in
      guard side == .right, frame.count >= 42, frame[12] == 0x08, frame[13] == 0x06,
        let message = try? ARPPacket(checking: frame.extracting(droppingFirst: 14)).message
      else { return }
      probes.append(message)
    }
    var events: [DHCPClientAction] = []
    network.run(until: network.now + .seconds(30)) { network in
      events += network.right.takeDHCPEvents()
      return !events.contains { if case .bound = $0 { true } else { false } }
    }
    #expect(events.first == .declined(IPv4Address(10, 0, 0, 1)))
    let probe = try #require(probes.first)
    #expect(probe.operation == .request)
    #expect(probe.senderProtocolAddress == .any)
    #expect(probe.targetProtocolAddress == IPv4Address(10, 0, 0, 1))
    // After the decline (and 10 s), the next address.
    guard case .bound(let lease) = events.last else {
      Issue.record("no lease after the decline: \(events)")
      return
    }
    #expect(lease.address.address == IPv4Address(10, 0, 0, 2))
    #expect(network.left.dhcpServer?.leases.contains { $0.state == .declined } == true)
    #expect(network.right.dhcpClient?.counters.declinesSent == 1)
  }

  @Test(arguments: 1...10 as ClosedRange<UInt64>)
  func aLossyLinkOnlyDelaysTheLease(seed: UInt64) throws {
    // 20% of the frames lost each way: a DISCOVER/OFFER round succeeds 64% of the time, and
    // the backoff (4, 8, 16, 32, 64, 64... s) keeps trying.
    var impairment = ImpairmentConfiguration()
    impairment.lossPerMillion = 200_000
    var network = try Self.network(impairment: impairment, seed: seed)
    let lease = Self.waitForLease(&network, within: .seconds(600))
    #expect(lease != nil, "seed \(seed)")
    #expect(network.right.ipv4.address?.address == IPv4Address(10, 0, 0, 100), "seed \(seed)")
    let discovers = network.right.dhcpClient?.counters.discoversSent ?? 0
    #expect(discovers <= 13, "seed \(seed): \(discovers) DISCOVERs in 600 s")
  }
}
