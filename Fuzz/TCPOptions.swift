// Fuzz target: the TCP options parser and writer (Sources/TCP/TCPOptions.swift).
//
// Input: the option bytes of a TCP header (what follows the fixed 20 bytes, up to 40 bytes
// in a real header; longer inputs are fine here).
// Checks: `TCPOptions(parsing:)` never traps; parsing is idempotent through `emit`: options
// that fit the 40-byte option space are written in `encodedLength` bytes (a multiple of 4)
// that parse to the same value.

import NetCore
import TCP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  withInput(data, size) { bytes in
    guard let options = try? TCPOptions(parsing: bytes) else { return }
    if let windowScale = options.windowScale { expect(windowScale <= 14, "window scale") }
    expect(options.sackBlocks.count <= TCPOptions.maximumSACKBlocks, "SACK blocks")

    let length = options.encodedLength
    expect(length % 4 == 0, "encoded length \(length) is not a multiple of 4")
    guard length <= 40 else { return }
    var written = [UInt8](repeating: 0xEE, count: length)
    var span = written.mutableSpan
    options.emit(into: &span, at: 0)
    _ = consume span
    guard let reparsed = try? TCPOptions(parsing: written.span) else {
      fatalError("written options do not parse")
    }
    expect(reparsed == options, "options round trip")
  }
  return 0
}
