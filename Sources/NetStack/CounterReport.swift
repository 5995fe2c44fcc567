import NetCore

/// The counters as netstackd prints them when it exits and the unikernel on its console when
/// it shuts down, one line each, from this one code: `  group.name value` for every counter
/// that is not zero.
public enum CounterReport {
  /// One counter's line.
  public static func line(group: String, name: String, value: UInt64) -> String {
    "  \(group).\(name) \(value)"
  }

  /// Calls `body` with the line of each of the stack's counters that is not zero, in the
  /// stack's order (``DirectStack/forEachCounter(_:)``).
  public static func forEachLine(of stack: DirectStack, _ body: (String) -> Void) {
    stack.forEachCounter { group, name, value in
      if value != 0 { body(line(group: "\(group)", name: "\(name)", value: value)) }
    }
  }
}
