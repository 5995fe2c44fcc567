// Fuzz target: netfront's receive path (Drivers/Netfront/NetfrontRings.swift) against a back end
// that writes whatever it likes into the RX ring: responses with any id, offset, flags and
// status, scatter-gather chains that never end, extra-info slots, error statuses.
//
// Input: byte 0 chooses the back end's slot size (4096, 1500, 200 or 1 byte), byte 1 its
// offset in the page (0, 64 or 4000) and whether it adds a GSO extra-info slot; then one
// record per frame: 2 bytes of length (1 to 9000, and at most 17 slots), and 1 control byte whose low bit says to
// replace the frame's first response with the next 8 input bytes (id, offset, flags, status
// as netif_rx_response lays them out).
// Checks: nothing traps; the device either returns frames or reports a ring violation (and
// then stops); every frame it hands over is at most 64 KiB, as many as its framesReceived
// counter says; and when no response was replaced, the frames arrive whole, in order and
// byte-exact (the control case: the harness itself is sound).

import NetCore
import Netfront
import NetfrontSimulation

/// The input, shared with the back end's response mutator.
final class FuzzInput {
  var reader: FuzzReader
  var replaceNext = 0
  var replaced = 0
  init(_ reader: FuzzReader) { self.reader = reader }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let input = FuzzInput(FuzzReader(data, size))
  let xen = SimulatedXen()
  let netback = SimulatedNetback(xen: xen, mac: MACAddress(0x00, 0x16, 0x3E, 0x00, 0x00, 0x02))
  xen.onWait = { _ in netback.process() }
  let slotChoice = input.reader.uint8()
  netback.receiveSlotSize = [4096, 1500, 200, 1][Int(slotChoice % 4)]
  let layout = input.reader.uint8()
  netback.receiveOffset = [0, 64, 4000][Int(layout % 3)]
  netback.receiveExtraInfo = layout & 0x80 != 0
  // Linux's netback puts a frame in at most 17 slots (XEN_NETBK_LEGACY_SLOTS_MAX - 1 data
  // slots); longer frames never fit this back end's slots.
  let slot = max(1, min(netback.receiveSlotSize, xenPageSize - netback.receiveOffset))
  let longest = min(9000, slot * 17)
  netback.receiveResponseMutator = { response in
    guard input.replaceNext > 0 else { return }
    input.replaceNext -= 1
    input.replaced += 1
    let bytes = input.reader.bytes(8)
    var raw = [UInt8](repeating: 0, count: 8)
    for index in 0..<bytes.count { raw[index] = bytes[index] }
    raw.withUnsafeBytes { response = NetifRXResponse(loadingFrom: $0.baseAddress!) }
  }

  var device: NetfrontDevice<SimulatedXenPlatform>
  do {
    device = try NetfrontDevice(
      platform: SimulatedXenPlatform(xen: xen, domain: XenDomainID(rawValue: 1)))
    var clock = Instant(nanoseconds: 1_000_000_000)
    try device.waitUntilConnected(timeout: .seconds(5)) {
      clock = clock + .milliseconds(1)
      return clock
    }
  } catch {
    fatalError("netfront did not connect to the simulated back end: \(error)")
  }

  var sent: [[UInt8]] = []
  var received: [[UInt8]] = []
  var violated = false
  while !input.reader.isAtEnd && sent.count < 48 && !violated {
    let length = 1 + Int(input.reader.uint16()) % longest
    let control = input.reader.uint8()
    let frame = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ sent.count) }
    sent.append(frame)
    if control & 1 != 0 { input.replaceNext += 1 }
    _ = netback.deliver(frame)
    for _ in 0..<4 {
      netback.process()
      do {
        _ = try device.receive(limit: 64, now: .zero) { frame, _ in
          expect(frame.count <= 65536, "a frame longer than 64 KiB")
          received.append(frame.copyToArray())
        }
      } catch {
        violated = true
        break
      }
    }
    input.replaceNext = 0
  }
  expect(UInt64(received.count) == device.counters.framesReceived, "framesReceived")
  if input.replaced == 0 && !violated {
    expect(received == sent, "frames through an honest back end arrive changed or not at all")
  }
  // Closing gives every page back (the back end ends its mappings as it closes).
  var clock = Instant(nanoseconds: 10_000_000_000)
  do {
    try device.disconnect {
      clock = clock + .milliseconds(1)
      return clock
    }
  } catch {
    fatalError("netfront did not close: \(error)")
  }
  expect(device.pagesAwaitingRelease == 0, "pages still granted after closing")
  xen.onWait = nil  // the back end holds the Xen and the Xen's hook the back end: a cycle
  return 0
}
