import LinuxRuntime
import NetCore
import NetStack

/// The device the daemon's stack runs on: the driver (`Raw`: TAP, Unix socket, netfront)
/// inside the pcap capture (`--pcap`), the frame tracer (`--log-level trace`) and the fault
/// injector (`--impair`), in that order from the wire; each passes frames straight through
/// when its option is not given. The driver itself is `chain.inner.inner.inner`.
typealias DeviceChain<Raw: NetworkDevice & ~Copyable> = ImpairedDevice<
  TracingDevice<PcapDevice<Raw, PcapWriter>>
>
