import ARP
import DHCP
import NetCore
import NetStack
import NetworkAPI
import TCP

/// What `netstackd status` shows: the interface, the ARP table, listeners and connections,
/// IPv6's addresses, neighbours and routers (``IPv6Status``), and every layer's counters; rendered as text for people and JSON for programs.
struct StatusReport {
  struct Connection {
    var local: String
    var remote: String
    var state: String
    var bytesReceived: UInt64
    var bytesSent: UInt64
    var retransmitted: UInt64
    var smoothedRoundTripMicroseconds: Int64?
    var congestionWindow: Int
    /// Bytes of memory its buffers hold.
    var memory: Int
  }

  /// The memory budget: its limit, levels and what each use holds.
  struct MemoryStatus {
    var limit: Int
    var used: Int
    var peak: Int
    var pressureLevel: Int
    var admissionLevel: Int
    var byUse: [(name: String, bytes: Int)]

    var state: String {
      used >= admissionLevel
        ? "refusing new connections" : used >= pressureLevel ? "under pressure" : "normal"
    }
  }

  /// Connections listed one by one at most; the rest are counted by state.
  static let maximumListedConnections = 256

  var backend: String
  var device: String
  /// `--netns`: the network namespace the device lives in (nil: the daemon's own).
  var networkNamespace: String?
  var uptimeSeconds: Int64
  var hardwareAddress: String?
  var address: String
  /// The socket backend's IPv6 bind addresses (`--ip6`, default ::1).
  var socketIPv6Addresses: [String] = []
  var gateway: String?
  var mtu: Int?
  var arp: [(address: String, hardwareAddress: String, state: String)] = []
  var listeners: [UInt16] = []
  var connections: [Connection] = []
  /// Every connection, listed or not, by state (in the order states were first seen).
  var connectionsByState: [(state: String, count: Int)] = []
  var connectionCount = 0
  var timeWait = 0
  var memory: MemoryStatus?
  var udpPorts: [UInt16] = []
  var counters: [(group: String, name: String, value: UInt64)] = []
  var services: String
  /// The event loop's busy polling (`--busy-poll`): "adaptive, up to 500 us", "off" ...
  var busyPoll: String?
  var dhcpClient: DHCPClientStatus?
  var dhcpServer: DHCPServerStatus?
  /// Relay mode's DNS, policy and ICMP flows (nil: not relaying).
  var relay: RelayStatus?
  /// The published ports and their flows (nil: the daemon publishes none and cannot).
  var published: PublishStatus?
  /// IPv6's addresses, neighbours, routers, prefixes and DNS servers (the direct stack's).
  var ipv6: IPv6Status?

  /// The DHCP client's state and lease, times in seconds from now.
  struct DHCPClientStatus {
    var state: String
    var address: String?
    var server: String?
    var gateway: String?
    var dns: [String] = []
    var leaseSeconds: Int64?
    var renewIn: Int64?
    var rebindIn: Int64?
    var expiresIn: Int64?
  }

  /// The DHCP server's pool and lease table.
  struct DHCPServerStatus {
    var pool: String
    var leases: [(address: String, mac: String, state: String, expiresIn: Int64, host: String?)]
  }

  /// A report on the direct stack.
  init(stack: DirectStack, device: String, services: String, uptime: Interval, now: Instant) {
    backend = "direct"
    self.device = device
    self.services = services
    uptimeSeconds = uptime.seconds
    hardwareAddress = "\(stack.hardwareAddress)"
    address = stack.ipv4.address.map { "\($0)" } ?? "none"
    gateway = stack.ipv4.gateway.map { "\($0)" }
    mtu = stack.ipv4.link.mtu
    for entry in stack.ipv4.link.cache.entries {
      let state: String
      switch entry.state {
      case .incomplete: state = "incomplete"
      case .reachable: state = "reachable"
      case .stale: state = "stale"
      case .probing: state = "probing"
      }
      arp.append(("\(entry.address)", entry.state.hardwareAddress.map { "\($0)" } ?? "-", state))
    }
    listeners = stack.tcp.listeningPorts
    stack.tcp.forEachConnection { _, connection in
      connectionCount += 1
      let name = connection.state.name
      if let index = connectionsByState.firstIndex(where: { $0.state == name }) {
        connectionsByState[index].count += 1
      } else {
        connectionsByState.append((name, 1))
      }
      guard connections.count < StatusReport.maximumListedConnections else { return }
      let tuple = connection.tuple
      connections.append(
        Connection(
          local: "\(SocketAddress(tuple.localAddress, tuple.localPort))",
          remote: "\(SocketAddress(tuple.remoteAddress, tuple.remotePort))",
          state: connection.state.name, bytesReceived: connection.bytesReceived,
          bytesSent: connection.bytesSent,
          retransmitted: connection.segmentsRetransmitted,
          smoothedRoundTripMicroseconds: connection.smoothedRoundTripTime?.microseconds,
          congestionWindow: connection.congestionWindow,
          memory: connection.bufferedMemory))
    }
    let budget = stack.budget
    memory = MemoryStatus(
      limit: budget.limit, used: budget.used, peak: budget.peak,
      pressureLevel: budget.pressureLevel, admissionLevel: budget.admissionLevel,
      byUse: MemoryBudget.Use.allCases.map { ($0.name, budget.used(for: $0)) })
    timeWait = stack.tcp.timeWaitCount
    udpPorts = stack.udp.boundPorts
    if let client = stack.dhcpClient {
      var status = DHCPClientStatus(state: client.state.name)
      if let lease = client.lease {
        status.address = "\(lease.address)"
        status.server = "\(lease.server)"
        status.gateway = lease.router.map { "\($0)" }
        status.dns = lease.domainNameServers.map { "\($0)" }
        status.leaseSeconds = lease.duration?.seconds
        status.renewIn = lease.renewAt.map { ($0 - now).seconds }
        status.rebindIn = lease.rebindAt.map { ($0 - now).seconds }
        status.expiresIn = lease.expiresAt.map { ($0 - now).seconds }
      }
      dhcpClient = status
    }
    if let server = stack.dhcpServer {
      let pool = server.configuration.pool
      dhcpServer = DHCPServerStatus(
        pool: "\(pool.lowerBound)-\(pool.upperBound)",
        leases: server.leases.sorted { $0.address < $1.address }.map { lease in
          let state =
            switch lease.state {
            case .offered: "offered"
            case .bound: "bound"
            case .declined: "declined"
            }
          return (
            "\(lease.address)", "\(lease.hardwareAddress)", state, (lease.expiresAt - now).seconds,
            lease.hostName.map { String(decoding: $0, as: UTF8.self) }
          )
        })
    }
    ipv6 = IPv6Status(stack: stack, now: now)
    stack.forEachCounter { group, name, value in counters.append(("\(group)", "\(name)", value)) }
  }

  /// Adds a group of counters kept outside the stack (a service's).
  mutating func append<Group: CounterGroup>(_ group: Group) {
    group.forEachCounter { name, value in
      counters.append(("\(Group.groupName)", "\(name)", value))
    }
  }

  /// A report on the host-sockets backend (which has no tables of its own to show).
  init(
    socketBackendBoundTo address: String, ipv6: [String] = [], services: String, uptime: Interval
  ) {
    backend = "socket"
    device = "host sockets"
    self.address = address
    socketIPv6Addresses = ipv6
    self.services = services
    uptimeSeconds = uptime.seconds
  }

  var text: String {
    var lines: [String] = []
    lines.append(
      "netstackd \(DaemonOptions.version): \(backend) backend on \(device), up \(uptimeSeconds) s")
    if let networkNamespace { lines.append("network namespace: \(networkNamespace)") }
    var interface = "interface: ip \(address)"
    if !socketIPv6Addresses.isEmpty {
      interface += ", ip6 \(socketIPv6Addresses.joined(separator: ", "))"
    }
    if let hardwareAddress { interface += ", mac \(hardwareAddress)" }
    if backend == "direct" { interface += ", gateway \(gateway ?? "none")" }
    if let mtu { interface += ", mtu \(mtu)" }
    lines.append(interface)
    lines.append("services: \(services)")
    if let busyPoll { lines.append("event loop: busy poll \(busyPoll)") }
    if backend == "direct" {
      lines.append("arp (\(arp.count)):")
      for entry in arp {
        lines.append("  \(entry.address)  \(entry.hardwareAddress)  \(entry.state)")
      }
      if let memory {
        lines.append(
          "memory: \(memory.used) of \(memory.limit) bytes (\(memory.state); pressure at \(memory.pressureLevel), new connections refused at \(memory.admissionLevel)), peak \(memory.peak)"
        )
        let uses = memory.byUse.filter { $0.bytes > 0 }.map { "\($0.name) \($0.bytes)" }
        if !uses.isEmpty { lines.append("  " + uses.joined(separator: ", ")) }
      }
      lines.append("tcp listeners: \(listeners.map { "\($0)" }.joined(separator: ", "))")
      var summary = "tcp connections (\(connectionCount), plus \(timeWait) in TIME-WAIT):"
      if !connectionsByState.isEmpty {
        summary +=
          " " + connectionsByState.map { "\($0.count) \($0.state)" }.joined(separator: ", ")
      }
      lines.append(summary)
      for connection in connections {
        let rtt = connection.smoothedRoundTripMicroseconds.map { "\($0) us" } ?? "-"
        lines.append(
          "  \(connection.local)  \(connection.remote)  \(connection.state)  in \(connection.bytesReceived) B  out \(connection.bytesSent) B  retransmitted \(connection.retransmitted)  srtt \(rtt)  cwnd \(connection.congestionWindow)  memory \(connection.memory) B"
        )
      }
      if connectionCount > connections.count {
        lines.append("  (\(connectionCount - connections.count) more not listed)")
      }
      lines.append("udp ports: \(udpPorts.map { "\($0)" }.joined(separator: ", "))")
      if let ipv6 { lines.append(contentsOf: ipv6.lines) }
      if let client = dhcpClient {
        var line = "dhcp client: \(client.state)"
        if let address = client.address, let server = client.server {
          line += " \(address) from \(server), gateway \(client.gateway ?? "none")"
          if !client.dns.isEmpty { line += ", dns \(client.dns.joined(separator: ","))" }
          if let lease = client.leaseSeconds, let renew = client.renewIn,
            let rebind = client.rebindIn, let expires = client.expiresIn
          {
            line +=
              ", lease \(lease) s: renew in \(renew) s, rebind in \(rebind) s, expires in \(expires) s"
          } else {
            line += ", lease infinite"
          }
        }
        lines.append(line)
      }
      if let server = dhcpServer {
        lines.append("dhcp server: pool \(server.pool), \(server.leases.count) entries:")
        for lease in server.leases {
          var line =
            "  \(lease.address)  \(lease.mac)  \(lease.state)  expires in \(lease.expiresIn) s"
          if let host = lease.host { line += "  \(host)" }
          lines.append(line)
        }
      }
    }
    if let relay { lines += relay.textLines }
    if let published { lines += published.textLines }
    if backend == "direct" || counters.contains(where: { $0.value != 0 }) {
      lines.append("counters:")
      for counter in counters where counter.value != 0 {
        lines.append("  \(counter.group).\(counter.name) \(counter.value)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  var json: String {
    let json = JSONWriter()
    json.object {
      json.field("version", DaemonOptions.version)
      json.field("backend", backend)
      json.field("device", device)
      if let networkNamespace { json.field("network_namespace", networkNamespace) }
      json.field("uptime_seconds", uptimeSeconds)
      json.field("services", services)
      if let busyPoll { json.field("busy_poll", busyPoll) }
      json.key("interface")
      json.object {
        json.field("ip", address)
        if !socketIPv6Addresses.isEmpty {
          json.key("ip6")
          json.array(socketIPv6Addresses) { json.value($0) }
        }
        if let hardwareAddress { json.field("mac", hardwareAddress) }
        if let gateway { json.field("gateway", gateway) }
        if let mtu { json.field("mtu", Int64(mtu)) }
      }
      json.key("arp")
      json.array(arp) { entry in
        json.object {
          json.field("ip", entry.address)
          json.field("mac", entry.hardwareAddress)
          json.field("state", entry.state)
        }
      }
      if let memory {
        json.key("memory")
        json.object {
          json.field("limit", Int64(memory.limit))
          json.field("used", Int64(memory.used))
          json.field("peak", Int64(memory.peak))
          json.field("pressure_level", Int64(memory.pressureLevel))
          json.field("admission_level", Int64(memory.admissionLevel))
          json.field("state", memory.state)
          json.key("by_use")
          json.object {
            for use in memory.byUse { json.field(use.name, Int64(use.bytes)) }
          }
        }
      }
      json.key("tcp")
      json.object {
        json.key("listeners")
        json.array(listeners) { json.value(Int64($0)) }
        json.field("time_wait", Int64(timeWait))
        json.field("connection_count", Int64(connectionCount))
        json.key("connections_by_state")
        json.object {
          for entry in connectionsByState { json.field(entry.state, Int64(entry.count)) }
        }
        json.key("connections")
        json.array(connections) { connection in
          json.object {
            json.field("local", connection.local)
            json.field("remote", connection.remote)
            json.field("state", connection.state)
            json.field("bytes_received", Int64(connection.bytesReceived))
            json.field("bytes_sent", Int64(connection.bytesSent))
            json.field("segments_retransmitted", Int64(connection.retransmitted))
            if let rtt = connection.smoothedRoundTripMicroseconds { json.field("srtt_us", rtt) }
            json.field("cwnd", Int64(connection.congestionWindow))
            json.field("memory", Int64(connection.memory))
          }
        }
      }
      json.key("udp_ports")
      json.array(udpPorts) { json.value(Int64($0)) }
      if let ipv6 {
        json.key("ipv6")
        ipv6.write(to: json)
      }
      if let client = dhcpClient {
        json.key("dhcp_client")
        json.object {
          json.field("state", client.state)
          if let address = client.address { json.field("ip", address) }
          if let server = client.server { json.field("server", server) }
          if let gateway = client.gateway { json.field("gateway", gateway) }
          json.key("dns")
          json.array(client.dns) { json.value($0) }
          if let value = client.leaseSeconds { json.field("lease_seconds", value) }
          if let value = client.renewIn { json.field("renew_in_seconds", value) }
          if let value = client.rebindIn { json.field("rebind_in_seconds", value) }
          if let value = client.expiresIn { json.field("expires_in_seconds", value) }
        }
      }
      if let server = dhcpServer {
        json.key("dhcp_server")
        json.object {
          json.field("pool", server.pool)
          json.key("leases")
          json.array(server.leases) { lease in
            json.object {
              json.field("ip", lease.address)
              json.field("mac", lease.mac)
              json.field("state", lease.state)
              json.field("expires_in_seconds", lease.expiresIn)
              if let host = lease.host { json.field("host_name", host) }
            }
          }
        }
      }
      if let relay { relay.write(to: json) }
      if let published { published.write(to: json) }
      json.key("counters")
      json.object {
        var groups: [String] = []
        for counter in counters where !groups.contains(counter.group) {
          groups.append(counter.group)
        }
        for group in groups {
          json.key(group)
          json.object {
            for counter in counters where counter.group == group {
              json.field(counter.name, Int64(counter.value))
            }
          }
        }
      }
    }
    return json.output + "\n"
  }
}

/// A minimal JSON writer (RFC 8259): objects, arrays, strings with escapes, integers.
final class JSONWriter {
  private(set) var output = ""
  private var needsComma = [false]

  private func separate() {
    if needsComma[needsComma.count - 1] { output += "," }
    needsComma[needsComma.count - 1] = true
  }

  func object(_ body: () -> Void) {
    separate()
    output += "{"
    needsComma.append(false)
    body()
    needsComma.removeLast()
    output += "}"
  }

  func array<Element>(_ elements: [Element], _ body: (Element) -> Void) {
    separate()
    output += "["
    needsComma.append(false)
    for element in elements { body(element) }
    needsComma.removeLast()
    output += "]"
  }

  func key(_ name: String) {
    separate()
    output += Self.quoted(name) + ":"
    needsComma[needsComma.count - 1] = false
  }

  func field(_ name: String, _ text: String) {
    key(name)
    value(text)
  }

  func field(_ name: String, _ number: Int64) {
    key(name)
    value(number)
  }

  func value(_ text: String) {
    separate()
    output += Self.quoted(text)
  }

  func value(_ number: Int64) {
    separate()
    output += "\(number)"
  }

  func field(_ name: String, _ flag: Bool) {
    key(name)
    separate()
    output += flag ? "true" : "false"
  }

  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }
}
