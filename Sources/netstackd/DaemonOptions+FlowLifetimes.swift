import LinuxRuntime
import NetCore

/// How long a relayed or published TCP flow may stay half-closed and idle
/// (`--relay-half-closed-timeout`); keepalive and the user timeout of both its ends come from
/// `--tcp-keepalive` and `--tcp-user-timeout`.
extension DaemonOptions {
  static let flowLifetimeOptions: [Option] = [
    Option(
      "--relay-half-closed-timeout", value: .required("SECONDS"),
      help: """
        with --relay or published ports: reset a TCP flow one side has closed (FIN) when no \
        byte moves either way for this long (0 for never; default 7200, as passt's; a side \
        that reads slowly counts as idle)
        """
    ) { options, value, name throws(OptionError) in
      options.relayHalfClosedTimeout = try parseSeconds(value ?? "", option: name, allowZero: true)
    }
  ]

  /// Whether TCP flows other than the relay's may exist: published ports, given now or added
  /// at run time through the control socket.
  var hasTCPFlows: Bool { !publishes.isEmpty || control != nil }

  /// `--relay-half-closed-timeout` as an interval (nil: never).
  var halfClosedTimeout: Interval? {
    guard let seconds = relayHalfClosedTimeout else { return HostTCPRelay.defaultHalfClosedTimeout }
    return seconds == 0 ? nil : .seconds(Int64(seconds))
  }
}

extension DaemonOptions {
  /// Keepalive and user timeout of the relays' host sockets: the stack's own
  /// (`--tcp-keepalive`, `--tcp-user-timeout`).
  var hostSocketLifetime: HostSocketLifetime {
    HostSocketLifetime(keepalive: keepalive, userTimeout: userTimeout)
  }
}
