// Fuzz target: the ARP packet view (Sources/ARP/ARPPacket.swift).
//
// Input: an Ethernet payload (EtherType 0x0806), padding included.
// Checks: `ARPPacket(checking:)` never traps and accepts exactly Ethernet/IPv4 packets of at
// least 28 bytes; the parsed message emits the same 28 bytes again.

import ARP
import Ethernet
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    let wellFormed =
      bytes.count >= ARPPacket.length && bytes.uint16(at: 0) == 1
      && bytes.uint16(at: 2) == EtherType.ipv4.rawValue && bytes[4] == 6 && bytes[5] == 4
    guard let packet = try? ARPPacket(checking: bytes) else {
      expect(!wellFormed, "a well-formed ARP packet was refused")
      return
    }
    expect(wellFormed, "a malformed ARP packet was accepted")
    let message = packet.message
    expect(message.operation == packet.operation, "operation")

    var written = [UInt8](repeating: 0, count: ARPPacket.length)
    var span = written.mutableSpan
    message.emit(into: &span)
    _ = consume span
    expect(written == bytes.extracting(0..<ARPPacket.length).copyToArray(), "ARP round trip")
    let reparsed = try? ARPPacket(checking: written.span).message
    expect(reparsed == message, "reparsed message")
  }
  return 0
}
