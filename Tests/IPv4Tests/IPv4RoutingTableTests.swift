import IPv4
import NetCore
import Testing

/// Next-hop selection: on-link, gateways, longest prefix.
struct IPv4RoutingTableTests {
  func cidr(_ text: String) -> IPv4CIDR { try! IPv4CIDR(parsing: text) }
  func address(_ text: String) -> IPv4Address { try! IPv4Address(parsing: text) }

  @Test func emptyTableHasNoRoute() {
    let table = IPv4RoutingTable()
    #expect(table.nextHop(for: address("10.0.0.1")) == nil)
    #expect(table.routes.isEmpty)
  }

  @Test func onLinkDestinationsAreTheirOwnNextHop() {
    var table = IPv4RoutingTable()
    table.add(.init(destination: cidr("10.77.0.2/24"), gateway: nil))
    #expect(table.routes == [.init(destination: cidr("10.77.0.0/24"), gateway: nil)])
    #expect(table.nextHop(for: address("10.77.0.1")) == address("10.77.0.1"))
    #expect(table.nextHop(for: address("10.77.0.255")) == address("10.77.0.255"))
    #expect(table.nextHop(for: address("10.77.1.1")) == nil)
  }

  @Test func defaultRouteGoesThroughTheGateway() {
    var table = IPv4RoutingTable()
    table.add(.init(destination: cidr("10.77.0.2/24"), gateway: nil))
    table.add(.init(destination: cidr("0.0.0.0/0"), gateway: address("10.77.0.1")))
    #expect(table.nextHop(for: address("8.8.8.8")) == address("10.77.0.1"))
    #expect(table.nextHop(for: address("10.77.0.9")) == address("10.77.0.9"))
  }

  @Test func longestPrefixWinsWhateverTheOrder() {
    let routes: [IPv4RoutingTable.Route] = [
      .init(destination: cidr("0.0.0.0/0"), gateway: address("10.0.0.1")),
      .init(destination: cidr("10.0.0.0/8"), gateway: nil),
      .init(destination: cidr("10.1.0.0/16"), gateway: address("10.0.0.2")),
      .init(destination: cidr("10.1.2.0/24"), gateway: address("10.0.0.3")),
      .init(destination: cidr("10.1.2.3/32"), gateway: address("10.0.0.4")),
    ]
    for permutation in [
      routes, routes.reversed(), [routes[2], routes[4], routes[0], routes[3], routes[1]],
    ] {
      var table = IPv4RoutingTable()
      for route in permutation { table.add(route) }
      #expect(table.nextHop(for: address("1.1.1.1")) == address("10.0.0.1"))
      #expect(table.nextHop(for: address("10.9.9.9")) == address("10.9.9.9"))
      #expect(table.nextHop(for: address("10.1.9.9")) == address("10.0.0.2"))
      #expect(table.nextHop(for: address("10.1.2.4")) == address("10.0.0.3"))
      #expect(table.nextHop(for: address("10.1.2.3")) == address("10.0.0.4"))
    }
  }

  @Test func addReplacesTheRouteForTheSameDestination() {
    var table = IPv4RoutingTable()
    table.add(.init(destination: cidr("0.0.0.0/0"), gateway: address("10.0.0.1")))
    table.add(.init(destination: cidr("0.0.0.0/0"), gateway: address("10.0.0.254")))
    #expect(table.routes.count == 1)
    #expect(table.nextHop(for: address("1.2.3.4")) == address("10.0.0.254"))
    table.removeAll()
    #expect(table.nextHop(for: address("1.2.3.4")) == nil)
  }

  @Test func tableIsBounded() {
    var table = IPv4RoutingTable()
    for index in 0..<IPv4RoutingTable.limit {
      #expect(
        table.add(
          .init(
            destination: IPv4CIDR(address: IPv4Address(10, UInt8(index), 0, 0), prefixLength: 16),
            gateway: nil)) == true)
    }
    #expect(
      table.add(.init(destination: cidr("192.168.0.0/16"), gateway: nil)) == false)
    #expect(table.routes.count == IPv4RoutingTable.limit)
    // Replacing an existing route still works when full.
    #expect(
      table.add(.init(destination: cidr("10.0.0.0/16"), gateway: address("10.1.0.1"))) == true)
  }

  /// The layer's `configure` sets exactly the on-link route and a default route.
  @Test func layerConfigurationRoutes() {
    var layer = makeLayer(gateway: IPv4Address(10, 77, 0, 1))
    #expect(
      layer.routes.routes == [
        .init(destination: cidr("10.77.0.0/24"), gateway: nil),
        .init(destination: cidr("0.0.0.0/0"), gateway: address("10.77.0.1")),
      ])
    #expect(layer.link.address == cidr("10.77.0.2/24"))
    #expect(layer.sourceAddress(for: address("8.8.8.8")) == LinuxCaptures.vb)
    layer.configure(address: cidr("10.77.0.2/24"), gateway: nil, now: .zero)
    #expect(layer.sourceAddress(for: address("8.8.8.8")) == nil)
    #expect(layer.sourceAddress(for: address("10.77.0.1")) == LinuxCaptures.vb)
    #expect(layer.sourceAddress(for: .broadcast) == LinuxCaptures.vb)
    layer.configure(address: nil, gateway: address("10.77.0.1"), now: .zero)
    #expect(layer.routes.routes.isEmpty)
    #expect(layer.link.address == nil)
    #expect(layer.sourceAddress(for: .broadcast) == .any)
    #expect(layer.sourceAddress(for: address("10.77.0.1")) == nil)
  }
}
