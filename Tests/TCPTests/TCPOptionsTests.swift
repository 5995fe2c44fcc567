import NetCore
import Testing

@testable import TCP

/// Parsing and emitting TCP options: MSS (RFC 9293 §3.2), window scale and timestamps
/// (RFC 7323), SACK-permitted and SACK blocks (RFC 2018); NOP and EOL; unknown kinds skipped
/// (RFC 1122 §4.2.2.5); every malformed length refused.
struct TCPOptionsTests {
  func parse(_ bytes: [UInt8]) throws(WireError) -> TCPOptions {
    try TCPOptions(parsing: bytes.span)
  }

  func parseError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try parse(bytes)
      return nil
    } catch {
      return error
    }
  }

  func emit(_ options: TCPOptions) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: options.encodedLength)
    var span = bytes.mutableSpan
    options.emit(into: &span, at: 0)
    return bytes
  }

  static let blocks = [
    SACKBlock(left: SequenceNumber(1000), right: SequenceNumber(2000)),
    SACKBlock(left: SequenceNumber(3000), right: SequenceNumber(4000)),
    SACKBlock(left: SequenceNumber(0xFFFF_FF00), right: SequenceNumber(0x100)),
    SACKBlock(left: SequenceNumber(7), right: SequenceNumber(9)),
  ]

  static let roundTrips: [TCPOptions] = [
    TCPOptions(),
    .with(mss: 1460),
    .with(mss: 536),
    .with(mss: 65535),
    .with(windowScale: 0),
    .with(windowScale: 7),
    .with(windowScale: 14),
    .with(sackPermitted: true),
    .with(timestamp: (0, 0)),
    .with(timestamp: (0xFFFF_FFFF, 0x1234_5678)),
    .with(mss: 1460, windowScale: 7, sackPermitted: true, timestamp: (1, 0)),
    .with(mss: 1460, windowScale: 7, sackPermitted: true),
    .with(mss: 1460, timestamp: (1, 2)),
    .with(sack: Array(blocks.prefix(1))),
    .with(sack: Array(blocks.prefix(2))),
    .with(sack: Array(blocks.prefix(3))),
    .with(sack: blocks),
    .with(timestamp: (5, 6), sack: Array(blocks.prefix(3))),
  ]

  @Test(arguments: roundTrips)
  func emittedOptionsParseBack(options: TCPOptions) throws {
    let bytes = emit(options)
    #expect(bytes.count % 4 == 0)
    #expect(bytes.count <= 40)
    #expect(!bytes.contains(0xEE))  // every byte written, padding with NOPs
    #expect(try parse(bytes) == options)
  }

  @Test func linuxSynLayoutIsReproduced() {
    // MSS, SACK-permitted + timestamps, NOP + window scale: the 20 bytes of Linux's SYN
    // (LinuxCaptures.linuxSyn).
    let options = TCPOptions.with(
      mss: 1460, windowScale: 10, sackPermitted: true, timestamp: (0x2d2b_4231, 0))
    #expect(emit(options) == Array(LinuxCaptures.tcp(LinuxCaptures.linuxSyn)[20..<40]))
  }

  @Test func exactLayouts() {
    #expect(emit(.with(mss: 1460)) == [2, 4, 0x05, 0xB4])
    #expect(emit(.with(windowScale: 3)) == [1, 3, 3, 3])
    #expect(emit(.with(sackPermitted: true)) == [1, 1, 4, 2])
    #expect(
      emit(.with(timestamp: (0x0102_0304, 0x0506_0708)))
        == [1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8])
    #expect(
      emit(.with(sack: Array(Self.blocks.prefix(1))))
        == [1, 1, 5, 10, 0, 0, 0x03, 0xE8, 0, 0, 0x07, 0xD0])
    // Timestamps and three SACK blocks fill the 40 bytes exactly.
    #expect(emit(.with(timestamp: (1, 2), sack: Array(Self.blocks.prefix(3)))).count == 40)
  }

  @Test(arguments: [UInt8(15), 16, 200, 255])
  func windowScaleAbove14IsTakenAs14(shift: UInt8) throws {
    // RFC 7323 §2.3: "the TCP SHOULD log the error but MUST use 14 instead".
    #expect(try parse([3, 3, shift, 0]).windowScale == 14)
  }

  @Test func nopsAnywhereAreSkipped() throws {
    #expect(
      try parse([1, 1, 1, 2, 4, 0x05, 0xB4, 1, 1, 4, 2, 1]) == .with(mss: 1460, sackPermitted: true)
    )
    #expect(try parse([1, 1, 1, 1]) == TCPOptions())
  }

  @Test func endOfListStopsParsing() throws {
    // What follows EOL is padding, whatever it holds.
    #expect(try parse([2, 4, 0x05, 0xB4, 0, 2, 0xFF, 0xFF]) == .with(mss: 1460))
    #expect(try parse([0, 2, 0, 0]) == TCPOptions())
  }

  @Test(
    arguments: [
      [30, 4, 0x20, 0x01],  // MPTCP (kind 30)
      [34, 2],  // TCP Fast Open, cookie request
      [34, 10, 1, 2, 3, 4, 5, 6, 7, 8],  // TCP Fast Open cookie
      [254, 6, 0xF9, 0x89, 0, 0],  // RFC 6994 experimental
      [19, 18] + [UInt8](repeating: 0xAB, count: 16),  // MD5 signature (RFC 2385)
    ] as [[UInt8]])
  func unknownOptionsAreSkipped(unknown: [UInt8]) throws {
    let options = try parse(unknown + [2, 4, 0x05, 0xB4])
    #expect(options == .with(mss: 1460))
  }

  @Test func sackBlocksComeInOrder() throws {
    let options = try parse([
      5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
    ])
    #expect(
      options.sackBlocks == [
        SACKBlock(left: SequenceNumber(10), right: SequenceNumber(20)),
        SACKBlock(left: SequenceNumber(30), right: SequenceNumber(40)),
      ])
  }

  @Test(
    arguments: [
      [2],  // a kind with no room for its length
      [1, 1, 1, 8],  // the same after NOPs
      [2, 0, 0, 0],  // length 0
      [2, 1, 0, 0],  // length 1
      [30, 0],  // unknown kind, length 0
      [30, 1],  // unknown kind, length 1
      [30, 5, 0, 0],  // unknown kind running past the end
      [2, 3, 5, 0],  // MSS of length 3
      [2, 5, 5, 0xB4, 0],  // MSS of length 5
      [2, 4, 5],  // MSS cut short
      [3, 2, 1, 1],  // window scale of length 2
      [3, 4, 7, 0],  // window scale of length 4
      [4, 3, 0, 1],  // SACK-permitted of length 3
      [8, 8, 0, 0, 0, 1, 0, 0],  // timestamps of length 8
      [8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0],  // timestamps of length 12
      [8, 10, 0, 0, 0, 1, 0, 0, 0],  // timestamps cut short
      [5, 2, 1, 1],  // SACK with no block
      [5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1],  // SACK with a partial block
      [5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0],  // SACK of 1.5 blocks
      [5, 42] + [UInt8](repeating: 0, count: 40),  // SACK with five blocks
    ] as [[UInt8]])
  func malformedLengthIsRefused(bytes: [UInt8]) {
    #expect(parseError(bytes) == .badOption)
  }

  @Test func laterSackOptionReplacesAnEarlierOne() throws {
    let options = try parse([
      5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
      5, 10, 0, 0, 0, 3, 0, 0, 0, 4,
    ])
    #expect(options.sackBlocks == [SACKBlock(left: SequenceNumber(3), right: SequenceNumber(4))])
  }
}
