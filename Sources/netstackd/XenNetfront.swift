import Glibc
import LinuxRuntime
import NetCore
import Netfront
import XenLinuxPlatform

extension Daemon {
  /// Attaches the Swift netfront driver to the guest's vif `index` through
  /// `/dev/xen/{gntalloc,evtchn,xenbus}`, waits (up to 10 s) for the xenbus handshake with the
  /// back end, and builds the stack over it. The event loop waits on the platform's epoll
  /// descriptor (event channel, xenstore watch, self-wake). At exit the device closes as
  /// Linux's netfront does: Closing, a wait for the back end, Closed, a wait (each up to
  /// ``NetfrontConfiguration/closeTimeout``, 30 s), then its pages back.
  func openNetfront(_ index: Int, loop: EventLoop) -> DirectStackRuntime {
    let platform: XenLinuxPlatform
    do {
      platform = try XenLinuxPlatform()
    } catch {
      Netstackd.fail("--netfront \(index): \(error)", status: 2)
    }
    var device: NetfrontDevice<XenLinuxPlatform>
    do {
      device = try NetfrontDevice(
        platform: platform, configuration: NetfrontConfiguration(index: index))
      try device.waitUntilConnected(timeout: .seconds(10)) { MonotonicClock.now() }
    } catch {
      Netstackd.fail("--netfront \(index): \(error)", status: 2)
    }
    let mtu = options.mtu ?? device.mtu
    let mac = options.mac ?? device.hardwareAddress ?? chosenMAC
    let features = device.backendFeatures
    // A back end that cuts up large TCP segments (feature-sg and feature-gso-tcpv4) takes
    // the stack's 64 KiB segments, with their checksums left to it, unless --no-offload.
    let offloads = features.takesTCPSegmentation && options.offloads
    let backend =
      "backend \(device.backendPath) in domain \(device.backendDomain.rawValue)"
      + (features.scatterGather ? ", scatter-gather" : "")
      + (offloads ? ", TCP segmentation and checksum offload" : "")
    let descriptor = device.platform.fileDescriptor
    let (runtime, loopDevice) = makeRuntime(
      device, fileDescriptor: descriptor, name: "netstack over Xen netfront vif \(index)",
      mtu: mtu, mac: mac, offloads: offloads, loop: loop)
    closeDevice = {
      loopDevice.withDevice { chain in
        Daemon.report(chain.inner.inner.inner.counters)
        let started = MonotonicClock.now()
        do {
          try chain.inner.inner.inner.disconnect { MonotonicClock.now() }
          let took = (MonotonicClock.now() - started).nanoseconds / 1_000_000
          let held = chain.inner.inner.inner.pagesAwaitingRelease
          print(
            "netstackd: netfront vif \(index): \(chain.inner.inner.inner.state), backend \(chain.inner.inner.inner.backendState) in \(took) ms"
              + (held > 0 ? "; \(held) pages still mapped by the back end" : ""))
        } catch {
          print("netstackd: netfront vif \(index): closing: \(error)")
        }
      }
    }
    print("netstackd: xen vif \(index): mac \(mac), \(addressSummary), mtu \(mtu); \(backend)")
    return runtime
  }

  /// Prints the driver's counters that are not zero.
  static func report(_ counters: NetfrontCounters) {
    print("netstackd: netfront counters:")
    counters.forEachCounter { name, value in
      if value != 0 { print("  \(NetfrontCounters.groupName).\(name) \(value)") }
    }
  }
}
