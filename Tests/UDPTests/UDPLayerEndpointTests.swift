import IPv4
import NetCore
import Testing
import UDP

/// Binding, ephemeral ports, closing and generation-checked handles.
struct UDPLayerEndpointTests {
  @Test func bindsAPortOnce() throws {
    var udp = UDPLayer()
    let id = try udp.bind(port: 7777)
    #expect(udp.endpoint(id)?.localPort == 7777)
    #expect(udp.endpoint(id)?.localAddress == nil)
    #expect(udp.endpointCount == 1)
    #expect(throws: UDPError.addressInUse) { try udp.bind(port: 7777) }
    #expect(throws: UDPError.addressInUse) {
      try udp.bind(address: .v4(LinuxCaptures.vb), port: 7777)
    }
    #expect(udp.endpointCount == 1)
  }

  @Test func bindingToAnyMeansNoAddress() throws {
    var udp = UDPLayer()
    let any = try udp.bind(address: .v4(.any), port: 1)
    #expect(udp.endpoint(any)?.localAddress == nil)
    let specific = try udp.bind(address: .v4(LinuxCaptures.vb), port: 2)
    #expect(udp.endpoint(specific)?.localAddress == .v4(LinuxCaptures.vb))
  }

  @Test func ephemeralPortsAreInTheDynamicRangeAndDistinct() throws {
    var udp = UDPLayer(seed: 42)
    var ports = Set<UInt16>()
    for _ in 0..<500 {
      let id = try udp.bind(port: 0)
      let port = try #require(udp.endpoint(id)?.localPort)
      #expect((49152...65535).contains(port))
      ports.insert(port)
    }
    #expect(ports.count == 500)
  }

  @Test func ephemeralPortsDependOnTheSeedOnly() throws {
    func ports(seed: UInt64) throws -> [UInt16] {
      var udp = UDPLayer(seed: seed)
      var ports: [UInt16] = []
      for _ in 0..<10 {
        let id = try udp.bind(port: 0)
        ports.append(udp.endpoint(id)?.localPort ?? 0)
      }
      return ports
    }
    #expect(try ports(seed: 1) == ports(seed: 1))
    #expect(try ports(seed: 1) != ports(seed: 2))
  }

  @Test func ephemeralRangeCanRunOut() throws {
    var configuration = UDPLayer.Configuration()
    configuration.ephemeralPorts = 50000...50002
    var udp = UDPLayer(configuration: configuration, seed: 7)
    _ = try udp.bind(port: 50001)  // taken explicitly: skipped
    let a = try udp.bind(port: 0)
    let b = try udp.bind(port: 0)
    #expect(
      Set([udp.endpoint(a)!.localPort, udp.endpoint(b)!.localPort]) == [50000, 50002])
    #expect(throws: UDPError.tooManyEndpoints) { try udp.bind(port: 0) }
    udp.close(a)
    #expect(throws: Never.self) { try udp.bind(port: 0) }
  }

  @Test func endpointTableIsBounded() throws {
    var configuration = UDPLayer.Configuration()
    configuration.maximumEndpoints = 3
    var udp = UDPLayer(configuration: configuration)
    let ids = try (1...3).map { try udp.bind(port: UInt16($0)) }
    #expect(throws: UDPError.tooManyEndpoints) { try udp.bind(port: 4) }
    #expect(throws: UDPError.tooManyEndpoints) { try udp.bind(port: 0) }
    udp.close(ids[1])
    #expect(throws: Never.self) { try udp.bind(port: 4) }
    #expect(udp.endpointCount == 3)
  }

  @Test func closeFreesThePortAndInvalidatesTheHandle() throws {
    var udp = UDPLayer()
    let old = try udp.bind(port: 7777)
    udp.close(old)
    #expect(udp.endpoint(old) == nil)
    #expect(udp.endpointCount == 0)
    // The slot is reused with a new generation: the old handle does not reach the new owner.
    let new = try udp.bind(port: 9999)
    #expect(new.slot == old.slot)
    #expect(new.generation != old.generation)
    #expect(udp.endpoint(old) == nil)
    #expect(udp.receive(from: old) == nil)
    udp.close(old)  // a stale close does nothing
    #expect(udp.endpoint(new)?.localPort == 9999)
    #expect(throws: Never.self) { try udp.bind(port: 7777) }
  }

  @Test func handlesFromNowhereAreInvalid() throws {
    var udp = UDPLayer()
    let closed = try udp.bind(port: 1)
    udp.close(closed)
    _ = try udp.bind(port: 2)  // takes the closed one's slot
    // A handle from another layer, to a slot this one does not have.
    var other = UDPLayer()
    let foreign = try (10..<16).map { try other.bind(port: UInt16($0)) }.last!
    let bogus = [closed, foreign]
    var network = FakeNetwork()
    let payload: [UInt8] = [1]
    for handle in bogus {
      #expect(udp.endpoint(handle) == nil)
      #expect(udp.receive(from: handle) == nil)
      #expect(throws: UDPError.invalidEndpoint) {
        try udp.send(
          payload.span, from: handle, to: .v4(LinuxCaptures.va), port: 9, through: &network,
          now: .zero)
      }
    }
    #expect(network.sent.isEmpty)
  }

  @Test func errorDescriptions() {
    #expect(UDPError.addressInUse.description == "address already in use")
    #expect(UDPError.noRoute.description == "no route to host")
  }
}

extension UDPReceivedDatagram: Equatable {
  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.source == rhs.source && lhs.sourcePort == rhs.sourcePort
      && lhs.destination == rhs.destination && lhs.payload == rhs.payload
  }
}

/// One port, one endpoint, at an IPv4 and an IPv6 address (the relay's DNS at 10.0.2.3 and
/// fd00::3): it takes datagrams to either address only, and answers each family from its own.
struct UDPLayerTwoFamilyEndpointTests {
  static let v4 = IPAddress.v4(IPv4Address(10, 0, 2, 3))
  static let v6 = IPAddress.v6(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 3))
  static let guest4 = IPAddress.v4(IPv4Address(10, 0, 2, 15))
  static let guest6 = IPAddress.v6(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 0x100))
  static let other6 = IPAddress.v6(IPv6Address(0xFD00, 0, 0, 0, 0, 0, 0, 2))

  /// A checksum-verified UDP datagram from `source`:5000 to `destination`:53.
  func input(_ udp: inout UDPLayer, from source: IPAddress, to destination: IPAddress) -> UDPInput {
    let payload: [UInt8] = [1, 2, 3]
    let packet = PacketBuffer(copying: payload.span)
    UDPHeader(sourcePort: 5000, destinationPort: 53).prepend(
      to: packet, source: source, destination: destination)
    let bytes = packet.withBytes { $0.copyToArray() }
    return udp.input(
      TransportDelivery(source: source, destination: destination, checksumVerified: true),
      datagram: bytes.span)
  }

  @Test func bothAddressesAreTakenAndEachFamilyAnsweredFromItsOwn() throws {
    var udp = UDPLayer()
    let id = try udp.bind(address: Self.v4, otherFamilyAddress: Self.v6, port: 53)
    #expect(udp.endpoint(id)?.otherFamilyAddress == Self.v6)
    #expect(input(&udp, from: Self.guest4, to: Self.v4) == .delivered(id))
    #expect(input(&udp, from: Self.guest6, to: Self.v6) == .delivered(id))
    #expect(input(&udp, from: Self.guest6, to: Self.other6) == .portUnreachable)
    #expect(udp.receive(from: id)?.destination == Self.v4)
    #expect(udp.receive(from: id)?.destination == Self.v6)

    var network = FakeNetwork()
    let answer: [UInt8] = [9]
    try udp.send(answer.span, from: id, to: Self.guest6, port: 5000, through: &network, now: .zero)
    try udp.send(answer.span, from: id, to: Self.guest4, port: 5000, through: &network, now: .zero)
    #expect(network.sent.map(\.source) == [Self.v6, Self.v4])
    // Bound to any address, a second one means nothing.
    let any = try udp.bind(otherFamilyAddress: Self.v6, port: 54)
    #expect(udp.endpoint(any)?.localAddress == nil && udp.endpoint(any)?.otherFamilyAddress == nil)
  }
}
