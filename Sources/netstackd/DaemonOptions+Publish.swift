import ControlProtocol
import IPv6
import NetCore

/// The options of published ports (`--publish`, the host into the guests) and their checks.
extension DaemonOptions {
  static let publishOptions: [Option] = [
    Option(
      "--publish", value: .required(PublishSpec.form),
      help: """
        listen on HOSTADDR:HOSTPORT of netstackd's namespace (default address 0.0.0.0; an \
        IPv6 address in brackets, [::] for every IPv6 one) and relay each TCP connection or \
        UDP flow to GUESTADDR:GUESTPORT (IPv4, or IPv6 in brackets) through the stack, both \
        ways with half-close. With --relay the guest sees the client's own address and port \
        when it is of the guest's family (a client on the host's loopback as the gateway, or \
        at --host-loopback). At most \
        \(PublishedPortTable.maximumFlowsPerPort) flows a port and \
        \(PublishedPortTable.maximumFlows) in all; UDP flows end after --relay-idle-timeout. \
        Change them at run time with 'netstackd publish --control PATH' (repeatable, up to \
        \(PublishedPortTable.maximumPorts))
        """
    ) { options, value, name throws(OptionError) in
      do {
        options.publishes.append(try PublishSpec.parse(value ?? ""))
      } catch {
        throw OptionError(name, "'\(value ?? "")': \(error)")
      }
    }
  ]

  /// Whether UDP flows other than the relay's may exist (`--forward udp:`, `--publish`), so
  /// that `--relay-flows` and `--relay-idle-timeout` apply without `--relay`.
  var hasUDPFlows: Bool { !udpForwards.isEmpty || !publishes.isEmpty }

  /// Published ports and UDP forwards need the direct backend; no host port twice; at most
  /// ``PublishedPortTable/maximumPorts``; an IPv6 guest needs IPv6 (which no stack runs on a
  /// link whose MTU is below 1280, RFC 8200 §5).
  func validatePublishing() throws(OptionError) {
    if backend == .socket {
      if !publishes.isEmpty {
        throw OptionError("--publish", "needs the direct backend (a device with guests behind it)")
      }
      if !udpForwards.isEmpty {
        throw OptionError("--forward", "udp: needs the direct backend")
      }
    }
    guard publishes.count <= PublishedPortTable.maximumPorts else {
      throw OptionError("--publish", "more than \(PublishedPortTable.maximumPorts) ports")
    }
    for (index, spec) in publishes.enumerated()
    where publishes[..<index].contains(where: { spec.clashes(with: $0) }) {
      throw OptionError(
        "--publish", "\(spec.transport.rawValue) \(spec.hostEndpoint) is published twice")
    }
    if let mtu, mtu < IPv6Header.minimumMTU,
      let spec = publishes.first(where: { !$0.guestAddress.isIPv4 })
    {
      throw OptionError(
        "--publish", "'\(spec)': an IPv6 guest needs IPv6, which a --mtu below 1280 turns off")
    }
    if Set(udpForwards.map(\.port)).count != udpForwards.count {
      throw OptionError("--forward", "the same UDP port is forwarded twice")
    }
  }
}

extension PublishSpec {
  /// The host keys a new port with this spec would clash with: its own, and for a wildcard
  /// (0.0.0.0, `::`) any address's of its family on that port, or the wildcard's for a given
  /// address. The families do not clash: every IPv6 socket of netstackd is IPv6-only, so
  /// `tcp:0.0.0.0:8080` and `tcp:[::]:8080` are two ports.
  var conflictingHostKeys: [String] {
    let wildcard: IPAddress = hostAddress.isIPv4 ? .v4(.any) : .v6(.unspecified)
    var any = self
    any.hostAddress = wildcard
    return [hostKey, any.hostKey]
  }

  /// Whether the two would listen on the same host port (same transport and port, and the
  /// same address or either on every address).
  func clashes(with other: PublishSpec) -> Bool {
    conflictingHostKeys.contains(other.hostKey) || other.conflictingHostKeys.contains(hostKey)
  }
}
