import NetCore
import Testing

@testable import TCP

/// The segment view and the header repr (RFC 9293 §3.1): real Linux segments parse to what
/// tcpdump shows, re-emit byte for byte, and every malformed header is refused with a typed
/// error.
struct TCPSegmentTests {
  typealias C = LinuxCaptures
  static let client = IPv4Address(10, 0, 0, 1)
  static let server = IPv4Address(10, 0, 0, 2)

  /// Parses the TCP part of `packet` and hands the view to `body`.
  func withSegment(_ bytes: [UInt8], _ body: (borrowing TCPSegment) -> Void) throws {
    let segment = try TCPSegment(checking: bytes.span)
    body(segment)
  }

  func parseError(_ bytes: [UInt8]) -> WireError? {
    do {
      _ = try TCPSegment(checking: bytes.span)
      return nil
    } catch {
      return error
    }
  }

  @Test func linuxSynParses() throws {
    try withSegment(C.tcp(C.linuxSyn)) { segment in
      #expect(segment.sourcePort == 58782)
      #expect(segment.destinationPort == 7)
      #expect(segment.sequenceNumber == SequenceNumber(0x87a4_a148))
      #expect(segment.flags == .syn)
      #expect(segment.window == 64240)
      #expect(segment.headerLength == 40)
      #expect(segment.urgentPointer == 0)
      #expect(segment.payload.count == 0)
      #expect(segment.sequenceLength == 1)
      #expect(
        segment.options
          == .with(
            mss: 1460, windowScale: 10, sackPermitted: true, timestamp: (0x2d2b_4231, 0)))
    }
  }

  @Test func linuxDataSegmentParses() throws {
    try withSegment(C.tcp(C.linuxData)) { segment in
      #expect(segment.flags == [.psh, .ack])
      #expect(segment.acknowledgmentNumber == SequenceNumber(0x7bda_3660))
      #expect(segment.window == 63)  // scaled by 2^10
      #expect(segment.payload.copyToArray() == Array("hello, TCP port 7\n".utf8))
      #expect(segment.sequenceLength == 18)
      #expect(segment.options == .with(timestamp: (0x2d2b_4236, 0x6cf2_7e5c)))
    }
    try withSegment(C.tcp(C.linuxFin)) { segment in
      #expect(segment.flags == [.fin, .ack])
      #expect(segment.sequenceLength == 1)
    }
  }

  @Test func checksumIsVerifiedOverThePseudoHeader() throws {
    // The kernel's RST has a full checksum.
    try withSegment(C.tcp(C.linuxResetFromClosedPort)) { segment in
      let valid = segment.checksumIsValid(source: .v4(Self.server), destination: .v4(Self.client))
      #expect(valid)
      // Another address in the pseudo-header fails it (swapping the two would not: the sum
      // does not depend on order).
      let other = segment.checksumIsValid(
        source: .v4(IPv4Address(10, 0, 0, 3)), destination: .v4(Self.client))
      #expect(!other)
    }
    var corrupted = C.tcp(C.linuxResetFromClosedPort)
    corrupted[7] ^= 0x10
    try withSegment(corrupted) { segment in
      let valid = segment.checksumIsValid(source: .v4(Self.server), destination: .v4(Self.client))
      #expect(!valid)
    }
    // The socket's segments left the checksum to the device (see LinuxCaptures).
    try withSegment(C.tcp(C.linuxSyn)) { segment in
      let valid = segment.checksumIsValid(source: .v4(Self.client), destination: .v4(Self.server))
      #expect(!valid)
    }
  }

  /// Re-emits the header of a captured segment (with its payload) the way the stack would.
  func reemit(_ tcp: [UInt8], source: IPv4Address, destination: IPv4Address, offload: Bool)
    throws -> [UInt8]
  {
    let segment = try TCPSegment(checking: tcp.span)
    let packet = PacketBuffer(capacity: 256)
    packet.append(copying: segment.payload)
    segment.header.prepend(
      to: packet, source: .v4(source), destination: .v4(destination), offloadChecksum: offload)
    return packet.withBytes { $0.copyToArray() }
  }

  @Test(arguments: [
    LinuxCaptures.linuxSyn, LinuxCaptures.linuxAck, LinuxCaptures.linuxData,
    LinuxCaptures.linuxFin,
  ])
  func linuxSegmentsReemitByteForByte(packet: [UInt8]) throws {
    // Our option layout is Linux's, and with checksum offload the field holds the same
    // pseudo-header sum the kernel left there.
    let tcp = C.tcp(packet)
    #expect(try reemit(tcp, source: Self.client, destination: Self.server, offload: true) == tcp)
  }

  @Test func linuxSynAckReemitsByteForByte() throws {
    let tcp = C.tcp(C.linuxSynAck)
    #expect(try reemit(tcp, source: Self.server, destination: Self.client, offload: true) == tcp)
  }

  @Test func linuxResetReemitsWithItsFullChecksum() throws {
    let tcp = C.tcp(C.linuxResetFromClosedPort)
    #expect(try reemit(tcp, source: Self.server, destination: Self.client, offload: false) == tcp)
  }

  @Test func offloadedChecksumIsMarkedForTheDevice() {
    let header = TCPHeader(
      sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(3),
      acknowledgmentNumber: SequenceNumber(4), flags: .ack, window: 5)
    let packet = PacketBuffer(capacity: 300)
    packet.append(copying: pattern(100).span)
    header.prepend(
      to: packet, source: .v4(Self.client), destination: .v4(Self.server), offloadChecksum: true,
      segmentSize: 40)
    #expect(
      packet.offload
        == .tcpSegmentation(
          start: packet.startIndex, checksumOffset: 16, headerLength: 20, segmentSize: 40))
    let small = PacketBuffer(capacity: 300)
    header.prepend(
      to: small, source: .v4(Self.client), destination: .v4(Self.server), offloadChecksum: true)
    #expect(small.offload == .checksum(start: small.startIndex, checksumOffset: 16))
  }

  @Test func headerLengthCountsOptions() {
    var header = TCPHeader(
      sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(3),
      acknowledgmentNumber: SequenceNumber(4), flags: .syn, window: 5)
    #expect(header.length == 20)
    header.options = .with(mss: 1460, windowScale: 7, sackPermitted: true, timestamp: (1, 0))
    #expect(header.length == 40)
  }

  @Test func shortSegmentIsTruncated() {
    let tcp = C.tcp(C.linuxResetFromClosedPort)
    #expect(parseError([]) == .truncated)
    #expect(parseError(Array(tcp[..<19])) == .truncated)
    #expect(parseError(tcp) == nil)
  }

  @Test(arguments: [0, 1, 4])
  func dataOffsetBelowFiveWordsIsABadLength(words: UInt8) {
    var tcp = C.tcp(C.linuxResetFromClosedPort)
    tcp[12] = words << 4
    #expect(parseError(tcp) == .badLength)
  }

  @Test func dataOffsetPastTheSegmentIsTruncated() {
    var tcp = C.tcp(C.linuxSyn)
    #expect(parseError(tcp) == nil)
    tcp[12] = 11 << 4  // 44 bytes of header in a 40-byte segment
    #expect(parseError(tcp) == .truncated)
    #expect(parseError(Array(C.tcp(C.linuxSyn)[..<39])) == .truncated)
  }

  @Test func malformedOptionIsABadOption() {
    var tcp = C.tcp(C.linuxSyn)
    tcp[21] = 9  // MSS with length 9 runs into the next options
    #expect(parseError(tcp) == .badOption)
  }

  @Test func reservedBitsAndUrgentPointerDoNotMatter() throws {
    var tcp = C.tcp(C.linuxData)
    tcp[12] |= 0x0F  // reserved bits
    tcp[18] = 0x12  // urgent pointer without URG
    try withSegment(tcp) { segment in
      #expect(segment.headerLength == 32)
      #expect(segment.urgentPointer == 0x1200)
      #expect(segment.payload.count == 18)
    }
  }
}
