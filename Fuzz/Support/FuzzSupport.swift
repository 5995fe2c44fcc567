// Helpers shared by every fuzz target (compiled into each target's binary by scripts/fuzz).

import NetCore

/// The fuzzer's input as a `Span`, for the length of the call.
@inline(__always)
func withInput<Result>(
  _ data: UnsafePointer<UInt8>, _ size: Int, _ body: (Span<UInt8>) -> Result
) -> Result {
  body(Span(_unsafeElements: UnsafeBufferPointer(start: data, count: size)))
}

/// Stops the fuzzer with `message` when an expectation about the code under test fails.
///
/// `fatalError` (not `precondition`) so that the message is printed in optimized builds too;
/// libFuzzer reports the trap as a crash and saves the input.
@inline(__always)
func expect(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if !condition() { fatalError("fuzz expectation failed: \(message())", file: file, line: line) }
}

/// Reads fields off the front of the fuzzer's input; a read past the end yields zeros, so
/// that every input, however short, means something.
struct FuzzReader {
  let bytes: UnsafeBufferPointer<UInt8>
  private(set) var offset = 0

  init(_ data: UnsafePointer<UInt8>, _ size: Int) {
    bytes = UnsafeBufferPointer(start: data, count: size)
  }

  var isAtEnd: Bool { offset >= bytes.count }
  var remaining: Int { max(0, bytes.count - offset) }

  mutating func uint8() -> UInt8 {
    guard offset < bytes.count else { return 0 }
    defer { offset += 1 }
    return bytes[offset]
  }

  mutating func uint16() -> UInt16 {
    UInt16(uint8()) << 8 | UInt16(uint8())
  }

  mutating func uint32() -> UInt32 {
    UInt32(uint16()) << 16 | UInt32(uint16())
  }

  /// The next `count` bytes, or fewer at the end of the input.
  mutating func bytes(_ count: Int) -> UnsafeBufferPointer<UInt8> {
    let taken = min(max(0, count), remaining)
    defer { offset += taken }
    return UnsafeBufferPointer(rebasing: bytes[offset..<(offset + taken)])
  }
}

/// The Internet checksum computed the slow, obvious way (RFC 1071 §4.1, byte by byte), to
/// check `InternetChecksum`'s eight-bytes-at-a-time sum against.
func referenceChecksum(_ pieces: [UInt8]...) -> UInt16 {
  var sum: UInt32 = 0
  var all: [UInt8] = []
  for piece in pieces { all += piece }
  var index = 0
  while index + 1 < all.count {
    sum += UInt32(all[index]) << 8 | UInt32(all[index + 1])
    index += 2
  }
  if index < all.count { sum += UInt32(all[index]) << 8 }
  while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
  return ~UInt16(sum)
}

/// Whether bytes (checksum field included) verify under the reference checksum: the one's
/// complement sum is all ones, so its complement is zero.
func referenceVerifies(_ pieces: [UInt8]...) -> Bool {
  var all: [UInt8] = []
  for piece in pieces { all += piece }
  return referenceChecksum(all) == 0
}

/// Stores at `offset` the checksum that makes `bytes[range]` verify (the field is zeroed
/// first; `prefix` is summed before the range, as a pseudo-header is).
func fixChecksum(
  _ bytes: inout [UInt8], range: Range<Int>, at offset: Int, prefix: [UInt8] = []
) {
  bytes[offset] = 0
  bytes[offset + 1] = 0
  let checksum = referenceChecksum(prefix, Array(bytes[range]))
  bytes[offset] = UInt8(checksum >> 8)
  bytes[offset + 1] = UInt8(truncatingIfNeeded: checksum)
}

/// The 12-byte IPv4 pseudo-header of RFC 768 / RFC 9293 §3.1.
func pseudoHeader(
  source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, length: Int
) -> [UInt8] {
  var bytes: [UInt8] = []
  for address in [source, destination] {
    for index in 0..<4 { bytes.append(address.octet(index)) }
  }
  bytes += [
    0, protocolNumber, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
  ]
  return bytes
}

extension PacketBuffer {
  /// A copy of the data.
  var contents: [UInt8] { withBytes { $0.copyToArray() } }
}
