/// A named group of event counters: packets received, sent, and dropped by reason.
///
/// Every layer keeps one (`EthernetCounters`, `ARPCounters`, ...) as a struct of `UInt64`
/// fields; this protocol lets the daemon print and export them without knowing the fields.
public protocol CounterGroup {
  /// The group's name in reports: `ethernet`, `arp`, `ipv4`, ...
  static var groupName: StaticString { get }

  /// Calls `body` with each counter's name and value, in a stable order.
  func forEachCounter(_ body: (StaticString, UInt64) -> Void)
}
