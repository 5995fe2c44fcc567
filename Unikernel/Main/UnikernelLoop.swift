import DHCP
import NetCore
import NetStack
import Netfront
import XenBareMetal

/// The unikernel's device: netfront, wrapped as netstackd wraps its devices, in a
/// `TracingDevice` (boot option `trace`) inside an `ImpairedDevice` (`impair=SPEC`); both pass
/// the frames straight through when their option is off.
typealias UnikernelDevice<Architecture: GuestArchitecture> = ImpairedDevice<
  TracingDevice<NetfrontDevice<UnikernelPlatform<Architecture>>>
>

/// The unikernel's one loop: the stack's poll over netfront and its wrappers (frames in,
/// timers, services, frames out, in the stack's one order), then `SCHEDOP_poll` (through the
/// platform's `wait`) until an event, a xenstore watch or the deadline the poll returned. It
/// also watches `control/shutdown`, where `xl shutdown` writes `poweroff` (or `reboot`).
struct UnikernelLoop<Architecture: GuestArchitecture>: ~Copyable {
  var device: UnikernelDevice<Architecture>
  let architecture: Architecture

  /// The token of the `control/shutdown` watch.
  static var shutdownToken: XenstoreWatchToken { XenstoreWatchToken(rawValue: 0x5348_5554) }
  /// Frames taken from the receive ring per turn.
  static var receiveBatch: Int { 64 }

  init(
    device: consuming UnikernelDevice<Architecture>, architecture: Architecture
  ) {
    self.device = device
    self.architecture = architecture
  }

  /// Netfront, inside its wrappers: for xenstore, the wait and the close.
  var netfront: NetfrontDevice<UnikernelPlatform<Architecture>> {
    _read { yield device.inner.inner }
    _modify { yield &device.inner.inner }
  }

  var now: Instant { Instant(nanoseconds: Int64(architecture.systemTime())) }

  /// Runs `stack` until a shutdown request or a failure; closes the device and says why it
  /// stopped.
  mutating func run(_ stack: consuming DirectStack) -> ShutdownReason {
    var stack = stack
    do {
      try netfront.platform.write("control/feature-poweroff", "1")
      try netfront.platform.watch("control/shutdown", token: Self.shutdownToken)
    } catch {
      print("netstack unikernel: cannot watch control/shutdown: \(error)")
    }
    var firstPacket = true
    while true {
      do throws(NetfrontError<XenBareMetalError>) {
        let time = now
        let deadline = try stack.poll(now: time, device: &device, receiveBatch: Self.receiveBatch)
        if firstPacket && stack.ipv4.link.ethernetCounters.framesReceived > 0 {
          firstPacket = false
          print("netstack unikernel: first frame received")
        }
        for event in stack.takeDHCPEvents() { Self.report(event) }
        if let reason = try shutdownRequest() {
          close(reason, stack: &stack)
          return reason
        }
        if deadline != time {
          let timeout = deadline.map { max($0 - now, .zero) }
          do { try netfront.platform.wait(timeout: timeout) } catch { throw .platform(error) }
        }
      } catch {
        print("netstack unikernel: stopping: \(Self.describe(error))")
        close(.crash, stack: &stack)
        return .crash
      }
    }
  }

  /// Whether dom0 asked us to stop: `control/shutdown` holds `poweroff` or `reboot` (which
  /// we acknowledge by clearing it, as Linux does).
  private mutating func shutdownRequest() throws(NetfrontError<XenBareMetalError>)
    -> ShutdownReason?
  {
    do {
      guard try netfront.platform.takeWatchEvent(Self.shutdownToken),
        let request = try netfront.platform.read("control/shutdown"), !request.isEmpty
      else { return nil }
      try netfront.platform.write("control/shutdown", "")
      print("netstack unikernel: shutdown requested: \(request)")
      return request == "reboot" ? .reboot : .poweroff
    } catch {
      throw .platform(error)
    }
  }

  /// Gives a DHCP lease back, closes netfront (Closing, then Closed in xenstore) and prints
  /// the counters.
  private mutating func close(_ reason: ShutdownReason, stack: inout DirectStack) {
    if stack.dhcpClient != nil && reason != .crash {
      stack.releaseDHCPLease(now: now)
      _ = try? stack.poll(now: now, device: &device, receiveBatch: 0)
      for event in stack.takeDHCPEvents() { Self.report(event) }
    }
    print("netstack unikernel: counters:")
    CounterReport.forEachLine(of: stack) { print($0) }
    let architecture = self.architecture
    let started = architecture.systemTime()
    do {
      // Closing, a wait for the back end, Closed, a wait: up to 30 s each, read from Xen's
      // system time while SCHEDOP_poll sleeps on the xenstore and netfront ports.
      try netfront.disconnect {
        Instant(nanoseconds: Int64(architecture.systemTime()))
      }
      let took = (architecture.systemTime() - started) / 1_000_000
      let held = netfront.pagesAwaitingRelease
      print(
        "netstack unikernel: netfront vif 0: \(netfront.state), backend \(netfront.backendState) in \(took) ms"
          + (held > 0 ? "; \(held) pages still mapped by the back end" : ""))
    } catch {
      print("netstack unikernel: netfront vif 0: closing: \(Self.describe(error))")
    }
  }

  /// The error's message, with the platform's own (NetfrontError cannot print a generic
  /// failure in Embedded Swift, which has no reflection).
  static func describe(_ error: NetfrontError<XenBareMetalError>) -> String {
    if case .platform(let failure) = error { return "Xen platform: \(failure)" }
    return "\(error)"
  }

  /// Prints what the DHCP client did.
  static func report(_ event: DHCPClientAction) {
    switch event {
    case .bound(let lease):
      let router = lease.router.map { ", gateway \($0)" } ?? ""
      print("netstack unikernel: DHCP: bound \(lease.address) from \(lease.server)\(router)")
    case .renewed(let lease): print("netstack unikernel: DHCP: renewed \(lease.address)")
    case .lost(let lease): print("netstack unikernel: DHCP: lost \(lease.address)")
    case .released(let lease): print("netstack unikernel: DHCP: released \(lease.address)")
    case .declined(let address): print("netstack unikernel: DHCP: declined \(address) (in use)")
    case .send, .probe: break
    }
  }
}
