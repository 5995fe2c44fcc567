// Fuzz target: the Ethernet II frame view (Sources/Ethernet/EthernetFrame.swift).
//
// Input: one frame as a device hands it to the stack (no frame check sequence).
// Checks: `EthernetFrame(checking:)` never traps; a frame it accepts has a 14-byte header
// that `EthernetHeader.emit` writes back byte for byte, and `prepend(to:)` rebuilds the frame
// without touching the payload (padding is the link's, fuzzed through DirectStack); the address
// filter decides without trapping.

import Ethernet
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    guard let frame = try? EthernetFrame(checking: bytes) else {
      expect(bytes.count < EthernetHeader.length, "a frame of \(bytes.count) bytes was refused")
      return
    }
    let header = frame.header
    let payload = frame.payload
    expect(payload.count == bytes.count - EthernetHeader.length, "payload length")

    // The header writes back as it was read.
    var written = [UInt8](repeating: 0, count: EthernetHeader.length)
    var span = written.mutableSpan
    header.emit(into: &span)
    _ = consume span
    expect(
      written == bytes.extracting(0..<EthernetHeader.length).copyToArray(), "header round trip")

    // Framing the payload again gives the same frame.
    let packet = PacketBuffer(capacity: PacketBuffer.defaultHeadroom + payload.count)
    packet.append(copying: payload)
    header.prepend(to: packet)
    expect(packet.contents == bytes.copyToArray(), "framed bytes")

    var filter = EthernetFilter(address: MACAddress(0x02, 0, 0, 0, 0, 0x02))
    _ = filter.join(IPv4Address(224, 0, 0, 251))
    let verdict = filter.check(frame)
    if frame.source == filter.address || frame.source.isMulticast {
      expect(verdict == .badSource, "source filter")
    } else if frame.destination == filter.address || frame.destination.isBroadcast {
      expect(verdict == .accept, "destination filter")
    }
  }
  return 0
}
