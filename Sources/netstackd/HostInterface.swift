import CLinuxShims
import Glibc
import NetCore

/// The host (kernel) side of the TAP device: its address, MTU and link state, set with
/// SIOCSIF* ioctls. Remembers what it changed so that ``undo()`` can put things back.
struct HostInterface {
  let name: String
  private(set) var addedAddress = false
  /// The IPv6 address this added (`--host-ip6`), to remove again.
  private(set) var addedIPv6Address: IPv6CIDR?
  /// The MTU before this changed it, to put back.
  private var originalMTU: Int32?
  /// Whether this brought the link up (it was down).
  private var broughtUp = false

  init(name: String) { self.name = name }

  /// The interface's IPv4 address, if it has one.
  var currentAddress: IPv4Address? {
    var raw: UInt32 = 0
    guard netstack_interface_get_ipv4(name, &raw) == 0, raw != 0 else { return nil }
    return IPv4Address(rawValue: raw)
  }

  mutating func setAddress(_ cidr: IPv4CIDR) throws(OptionError) {
    let result = netstack_interface_set_ipv4(name, cidr.address.rawValue, cidr.netmask.rawValue)
    guard result == 0 else {
      throw OptionError(
        "--host-ip",
        "cannot give \(name) the address \(cidr): \(String(cString: strerror(-result)))")
    }
    addedAddress = true
  }

  /// Adds an IPv6 address (the kernel runs duplicate address detection on it first).
  mutating func addIPv6Address(_ cidr: IPv6CIDR) throws(OptionError) {
    let bytes = cidr.address.octets
    let result = netstack_interface_add_ipv6(name, bytes, Int32(cidr.prefixLength))
    guard result == 0 else {
      throw OptionError(
        "--host-ip6",
        "cannot give \(name) the address \(cidr): \(String(cString: strerror(-result)))")
    }
    addedIPv6Address = cidr
  }

  mutating func setMTU(_ mtu: Int) throws(OptionError) {
    var current: Int32 = 0
    if originalMTU == nil, netstack_interface_get_mtu(name, &current) == 0, current != Int32(mtu) {
      originalMTU = current
    }
    let result = netstack_interface_set_mtu(name, Int32(mtu))
    guard result == 0 else {
      throw OptionError(
        "--mtu", "cannot set the MTU of \(name) to \(mtu): \(String(cString: strerror(-result)))")
    }
  }

  mutating func bringUp() throws(OptionError) {
    if netstack_interface_is_up(name) == 0 { broughtUp = true }
    let result = netstack_interface_set_up(name, 1)
    guard result == 0 else {
      throw OptionError("--tap", "cannot bring \(name) up: \(String(cString: strerror(-result)))")
    }
  }

  /// Sets the transmit queue length (best effort: a larger queue avoids drops in bursts).
  func setTransmitQueueLength(_ length: Int) {
    _ = netstack_interface_set_txqueuelen(name, Int32(length))
  }

  /// Puts back what this changed: removes the address it added, takes the link down if it
  /// brought it up, restores the MTU. (A TAP device the daemon created vanishes anyway.)
  mutating func undo() {
    if broughtUp {
      _ = netstack_interface_set_up(name, 0)
      broughtUp = false
    }
    if let mtu = originalMTU {
      _ = netstack_interface_set_mtu(name, mtu)
      originalMTU = nil
    }
    if addedAddress {
      _ = netstack_interface_clear_ipv4(name)
      addedAddress = false
    }
    if let cidr = addedIPv6Address {
      _ = netstack_interface_remove_ipv6(name, cidr.address.octets, Int32(cidr.prefixLength))
      addedIPv6Address = nil
    }
  }
}
