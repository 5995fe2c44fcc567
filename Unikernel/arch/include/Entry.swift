import UnikernelArch
import UnikernelMain

/// ``GuestArchitecture`` over the C functions of `unikernel_arch.h`: the architecture's
/// start-of-day code and the shared runtime. This file and the header are the whole interface
/// between the Swift program and C (`Unikernel/arch/ABI.md`).
struct CArchitecture: GuestArchitecture {
  func hypercall(_ operation: XenHypercallNumber, _ command: UInt, _ argument: UInt) -> Int {
    arch_hypercall(operation.rawValue, command, argument, 0, 0, 0)
  }

  func systemTime() -> UInt64 { UInt64(arch_system_time_ns()) }

  func hardwareRandom() -> UInt64? {
    var value: UInt64 = 0
    return arch_hardware_random(&value) == 1 ? value : nil
  }

  #if arch(x86_64)
    var hardwareRandomName: String { "RDRAND" }
  #else
    var hardwareRandomName: String { "RNDR" }
  #endif

  var commandLine: String { String(cString: arch_command_line()) }

  func freeFrame(_ index: Int) -> UInt { arch_free_frame(UInt32(index)) }

  func attachConsole(ring: UnsafeMutableRawPointer, port: UInt32) {
    runtime_console_attach(ring, port)
  }

  var heapUsage: (inUse: Int, size: Int) {
    (Int(runtime_heap_in_use()), Int(runtime_heap_size()))
  }

  func shutdown(_ reason: ShutdownReason) -> Never { arch_shutdown(reason.rawValue) }
}

/// Where the architecture's start-of-day code enters Swift, with a stack, the FPU/SIMD
/// enabled and `.bss` zeroed.
@_cdecl("unikernel_main")
func unikernelMain() -> Never {
  Unikernel.boot(CArchitecture())
}
