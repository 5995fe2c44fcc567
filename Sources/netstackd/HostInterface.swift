import CLinuxShims
import Glibc
import NetCore

/// The host (kernel) side of the TAP device: its address, MTU and link state, set with
/// SIOCSIF* ioctls. Remembers what it changed so that ``undo()`` can put things back.
struct HostInterface {
  let name: String
  private(set) var addedAddress = false

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

  func setMTU(_ mtu: Int) throws(OptionError) {
    let result = netstack_interface_set_mtu(name, Int32(mtu))
    guard result == 0 else {
      throw OptionError(
        "--mtu", "cannot set the MTU of \(name) to \(mtu): \(String(cString: strerror(-result)))")
    }
  }

  func bringUp() throws(OptionError) {
    let result = netstack_interface_set_up(name, 1)
    guard result == 0 else {
      throw OptionError("--tap", "cannot bring \(name) up: \(String(cString: strerror(-result)))")
    }
  }

  /// Sets the transmit queue length (best effort: a larger queue avoids drops in bursts).
  func setTransmitQueueLength(_ length: Int) {
    _ = netstack_interface_set_txqueuelen(name, Int32(length))
  }

  /// Removes the address this added, if any.
  mutating func undo() {
    if addedAddress {
      _ = netstack_interface_clear_ipv4(name)
      addedAddress = false
    }
  }
}
