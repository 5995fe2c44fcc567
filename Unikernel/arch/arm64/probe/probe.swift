// The arm64 start-of-day probe: an Embedded Swift program that uses only the functions of
// Unikernel/arch/ABI.md. It prints on the Xen console, reads the clock twice, reads `name` and
// `device/vif/0/backend` from xenstore over its ring, checks unaligned loads and atomics on
// normal memory, and powers off.
import Synchronization

@_extern(c, "arch_hypercall")
func arch_hypercall(_ op: UInt, _ a1: UInt, _ a2: UInt, _ a3: UInt, _ a4: UInt, _ a5: UInt) -> Int
@_extern(c, "arch_system_time_ns") func arch_system_time_ns() -> UInt64
@_extern(c, "arch_free_memory")
func arch_free_memory(_ start: UnsafeMutablePointer<UInt>, _ end: UnsafeMutablePointer<UInt>)
@_extern(c, "arch_command_line") func arch_command_line() -> UnsafePointer<UInt8>
@_extern(c, "arch_free_frame") func arch_free_frame(_ index: UInt32) -> UInt
@_extern(c, "arch_debug_putc") func arch_debug_putc(_ c: UInt8)
@_extern(c, "arch_shutdown") func arch_shutdown_(_ reason: UInt32)
func arch_shutdown(_ reason: UInt32) -> Never { arch_shutdown_(reason); while true {} }
@_extern(c, "arch_console_io_result") func arch_console_io_result() -> Int
@_extern(c, "arch_console_mode") func arch_console_mode() -> Int32
@_extern(c, "arch_xen_time_offset_ns") func arch_xen_time_offset_ns() -> UInt64
@_extern(c, "arch_calibration_ns") func arch_calibration_ns() -> UInt64
@_extern(c, "arch_calibration_samples") func arch_calibration_samples() -> UInt64
@_extern(c, "arch_calibration_sample") func arch_calibration_sample(_ i: UInt32) -> Int64

enum Xen {
  static let memoryOp: UInt = 12, schedOp: UInt = 29, eventChannelOp: UInt = 32, hvmOp: UInt = 34
  static let schedYield: UInt = 0, schedPoll: UInt = 3
  static let evtchnSend: UInt = 4
  static let hvmGetParam: UInt = 1
  static let paramStorePFN: UInt32 = 1, paramStoreEvtchn: UInt32 = 2
}

func hvmParam(_ index: UInt32) -> (Int, UInt64) {
  // struct xen_hvm_param { domid_t domid; uint32_t index; uint64_t value; }
  var words: (UInt64, UInt64) = (0, 0)
  return withUnsafeMutableBytes(of: &words) { raw in
    raw.storeBytes(of: UInt16(0x7ff0), toByteOffset: 0, as: UInt16.self)
    raw.storeBytes(of: index, toByteOffset: 4, as: UInt32.self)
    let rc = arch_hypercall(Xen.hvmOp, Xen.hvmGetParam, UInt(bitPattern: raw.baseAddress!), 0, 0, 0)
    return (rc, raw.load(fromByteOffset: 8, as: UInt64.self))
  }
}

func send(_ port: UInt32) {
  var p = port
  _ = withUnsafeMutablePointer(to: &p) {
    arch_hypercall(Xen.eventChannelOp, Xen.evtchnSend, UInt(bitPattern: $0), 0, 0, 0)
  }
}

func yield() { _ = arch_hypercall(Xen.schedOp, Xen.schedYield, 0, 0, 0, 0) }

/// `SCHEDOP_poll` on no ports with a deadline: how long it blocks says how Xen's system time
/// relates to ours.
func pollNoPorts(deadline: UInt64) -> Int {
  // struct sched_poll { XEN_GUEST_HANDLE(evtchn_port_t) ports; unsigned int nr_ports; uint64_t timeout; }
  var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
  return withUnsafeMutableBytes(of: &words) { raw in
    raw.storeBytes(of: deadline, toByteOffset: 16, as: UInt64.self)
    return arch_hypercall(Xen.schedOp, Xen.schedPoll, UInt(bitPattern: raw.baseAddress!), 0, 0, 0)
  }
}

struct Xenstore {
  let page: UnsafeMutableRawPointer
  let port: UInt32
  var requestID: UInt32 = 1

  func index(_ offset: Int) -> UnsafeMutablePointer<Atomic<UInt32>> {
    (page + offset).assumingMemoryBound(to: Atomic<UInt32>.self)
  }

  mutating func read(_ path: StaticString) -> String? {
    // xsd_sockmsg: type, req_id, tx_id, len; XS_READ = 2, XS_ERROR = 16
    var message: [UInt8] = []
    for v in [UInt32(2), requestID, 0, UInt32(path.utf8CodeUnitCount + 1)] {
      for shift in stride(from: 0, to: 32, by: 8) { message.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
    for i in 0..<path.utf8CodeUnitCount { message.append(path.utf8Start[i]) }
    message.append(0)
    requestID &+= 1
    // request ring at 0, req_cons 2048, req_prod 2052
    var producer = index(2052).pointee.load(ordering: .relaxed)
    for byte in message {
      while producer &- index(2048).pointee.load(ordering: .acquiring) >= 1024 { send(port); yield() }
      (page + Int(producer & 1023)).storeBytes(of: byte, as: UInt8.self)
      producer &+= 1
    }
    index(2052).pointee.store(producer, ordering: .releasing)
    send(port)
    // response ring at 1024, rsp_cons 2056, rsp_prod 2060
    var reply: [UInt8] = []
    let start = arch_system_time_ns()
    var consumer = index(2056).pointee.load(ordering: .relaxed)
    while arch_system_time_ns() &- start < 10_000_000_000 {
      let rspProducer = index(2060).pointee.load(ordering: .acquiring)
      while consumer != rspProducer {
        reply.append((page + 1024 + Int(consumer & 1023)).load(as: UInt8.self))
        consumer &+= 1
      }
      index(2056).pointee.store(consumer, ordering: .releasing)
      if reply.count >= 16 {
        let length = Int(reply[12]) | Int(reply[13]) << 8 | Int(reply[14]) << 16 | Int(reply[15]) << 24
        if reply.count >= 16 + length {
          let type = reply[0]
          var text = ""
          for b in reply[16..<(16 + length)] where b != 0 { text.append(Character(Unicode.Scalar(b))) }
          return type == 16 ? "error " + text : text
        }
      }
      yield()
    }
    return nil
  }
}

func cString(_ p: UnsafePointer<UInt8>) -> String {
  var s = ""
  var i = 0
  while p[i] != 0 { s.append(Character(Unicode.Scalar(p[i]))); i += 1 }
  return s
}

@_cdecl("unikernel_main")
public func unikernelMain() {
  let t0 = arch_system_time_ns()
  print("hello from Swift on arm64")
  print("console: mode \(arch_console_mode()) (1 console_io, 2 PV ring), CONSOLEIO_write gave \(arch_console_io_result())")
  print("command line: \"\(cString(arch_command_line()))\"")
  var start: UInt = 0, end: UInt = 0
  arch_free_memory(&start, &end)
  print("free memory: \(hex(start))-\(hex(end)) (\((end - start) >> 20) MiB), free frames from \(hex(arch_free_frame(0)))")

  // unaligned loads and atomics on normal memory (both need the MMU on)
  let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
  let unaligned = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 3, as: UInt64.self) }
  let counter = Atomic<Int>(0)
  for _ in 0..<1000 { counter.add(1, ordering: .acquiringAndReleasing) }
  let exchanged = counter.compareExchange(expected: 1000, desired: 7, ordering: .sequentiallyConsistent)
  print("unaligned load \(hex(UInt(unaligned))), atomic counter \(counter.load(ordering: .relaxed)) (exchanged: \(exchanged.exchanged))")

  let t1 = arch_system_time_ns()
  let t2 = arch_system_time_ns()
  print("clock: \(t1) ns, then \(t2) ns (+\(t2 - t1) ns); \(t1 - t0) ns since unikernel_main")

  let (rc1, pfn) = hvmParam(Xen.paramStorePFN)
  let (rc2, port) = hvmParam(Xen.paramStoreEvtchn)
  print("xenstore: pfn \(hex(UInt(pfn))) (rc \(rc1)), event channel \(port) (rc \(rc2))")
  if rc1 == 0 && rc2 == 0 && pfn != 0 {
    var store = Xenstore(page: UnsafeMutableRawPointer(bitPattern: UInt(pfn) << 12)!, port: UInt32(port))
    print("xenstore name = \(store.read("name") ?? "(no reply)")")
    print("xenstore device/vif/0/backend = \(store.read("device/vif/0/backend") ?? "(no reply)")")
  }

  // SCHEDOP_poll deadlines are Xen system time: block until our now + 20 ms and see
  print("Xen time = virtual counter + \(arch_xen_time_offset_ns() / 1000) us (calibrated at start of day in \(arch_calibration_ns() / 1000) us, \(arch_calibration_samples()) polls)")
  var samples = "calibration samples (us below the offset):"
  for i in 0..<UInt32(min(16, arch_calibration_samples())) {
    samples += " \((Int64(arch_xen_time_offset_ns()) - arch_calibration_sample(i)) / 1000)"
  }
  print(samples)
  for wait in [UInt64(20_000_000), 1_000_000, 1_000_000, 5_000_000, 100_000_000, 300_000, 2_000_000] {
    let p0 = arch_system_time_ns()
    let prc = pollNoPorts(deadline: p0 + wait)
    let p1 = arch_system_time_ns()
    print("SCHEDOP_poll(no ports, deadline now + \(wait / 1000) us) returned \(prc) after \((p1 - p0) / 1000) us")
  }

  // "trap" on the command line: a Swift trap (brk), which start.S's vectors report
  if cString(arch_command_line()).utf8.contains(where: { $0 == UInt8(ascii: "!") }) {
    print("probe: trapping on purpose (an out-of-bounds index)")
    let empty: [Int] = []
    print("never printed: \(empty[Int(arch_system_time_ns() & 1) + 1])")
  }

  let t3 = arch_system_time_ns()
  print("probe done after \((t3 - t0) / 1_000_000) ms; SCHEDOP_shutdown(poweroff)")
  arch_shutdown(0)
}

func hex(_ v: UInt) -> String {
  let digits: StaticString = "0123456789abcdef"
  var s = "0x"
  var started = false
  for shift in stride(from: 60, through: 0, by: -4) {
    let d = Int((v >> UInt(shift)) & 15)
    if d != 0 || started || shift == 0 {
      started = true
      s.append(Character(Unicode.Scalar(digits.utf8Start[d])))
    }
  }
  return s
}
