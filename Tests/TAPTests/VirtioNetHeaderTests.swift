import NetCore
import Testing

@testable import TAP

/// The virtio-net header in front of every frame on a TAP opened with `IFF_VNET_HDR` (virtio
/// 1.x `struct virtio_net_hdr`, 12 bytes little-endian with `TUNSETVNETHDRSZ 12`): read from
/// what Linux writes, written as Linux reads it, for every offload the stack asks for.
///
/// The kernel's headers were captured on this project's VM (Linux 6.18): a Python script in a
/// throw-away network namespace opened a TAP with `IFF_TAP | IFF_NO_PI | IFF_VNET_HDR`,
/// `TUNSETVNETHDRSZ 12` and `TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
/// TUN_F_TSO_ECN)`, as `TAPDevice` does, gave the host side 10.99.0.1/24 and read what the
/// kernel sent to 10.99.0.2: a UDP datagram of 100 bytes, a TCP SYN, and, after a handshake
/// the script answered (MSS 1460, no timestamps), 60,000 bytes written to that connection.
struct VirtioNetHeaderTests {
  /// A UDP datagram (sendto of 100 bytes): checksum left to the device, from byte 34 (after
  /// Ethernet and IPv4 headers), stored 6 bytes in (the UDP checksum field).
  static let kernelUDP: [UInt8] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0x06, 0x00, 0x00, 0x00,
  ]
  /// The kernel's SYN: checksum left to the device, stored 16 bytes into the TCP header.
  static let kernelSYN: [UInt8] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0x10, 0x00, 0x00, 0x00,
  ]
  /// A 7354-byte frame of that connection: one TCP segment for the device to cut into 1460-byte
  /// segments (GSO TCPv4), headers 54 bytes (Ethernet 14, IPv4 20, TCP 20).
  static let kernelTSO: [UInt8] = [
    0x01, 0x01, 0x36, 0x00, 0xB4, 0x05, 0x22, 0x00, 0x10, 0x00, 0x00, 0x00,
  ]

  /// Where the stack's frames start in their buffers: after the default headroom.
  static let frameStart = PacketBuffer.defaultHeadroom

  /// The header's 12 bytes as `write(to:)` writes them, with a guard byte on each side that
  /// must stay untouched.
  private func written(_ header: VirtioNetHeader) -> [UInt8] {
    var bytes = [UInt8](repeating: 0xEE, count: VirtioNetHeader.length + 2)
    bytes.withUnsafeMutableBytes { header.write(to: $0.baseAddress! + 1) }
    #expect(bytes.first == 0xEE && bytes.last == 0xEE, "write(to:) wrote outside its 12 bytes")
    return Array(bytes[1...VirtioNetHeader.length])
  }

  private func parsed(_ bytes: [UInt8]) -> VirtioNetHeader {
    bytes.withUnsafeBytes { VirtioNetHeader($0) }
  }

  // MARK: Reading what the kernel writes

  @Test func theKernelsUDPChecksumOffloadReads() {
    let header = parsed(Self.kernelUDP)
    #expect(header.flags == VirtioNetHeader.needsChecksum)
    #expect(header.gsoType == VirtioNetHeader.gsoNone)
    #expect(header.headerLength == 0)
    #expect(header.gsoSize == 0)
    #expect(header.checksumStart == 34)
    #expect(header.checksumOffset == 6)
    #expect(header.checksumTrusted)
  }

  @Test func theKernelsTCPChecksumOffloadReads() {
    let header = parsed(Self.kernelSYN)
    #expect(header.flags == VirtioNetHeader.needsChecksum)
    #expect(header.gsoType == VirtioNetHeader.gsoNone)
    #expect(header.checksumStart == 34)
    #expect(header.checksumOffset == 16)
    #expect(header.checksumTrusted)
  }

  @Test func theKernelsTCPSegmentationOffloadReads() {
    let header = parsed(Self.kernelTSO)
    #expect(header.flags == VirtioNetHeader.needsChecksum)
    #expect(header.gsoType == VirtioNetHeader.gsoTCPv4)
    #expect(header.headerLength == 54)
    #expect(header.gsoSize == 1460)
    #expect(header.checksumStart == 34)
    #expect(header.checksumOffset == 16)
    #expect(header.checksumTrusted)
  }

  /// Every field is little-endian, whatever its value (two-byte values above 255 included).
  @Test func fieldsAreLittleEndian() {
    let header = parsed([0x03, 0x81, 0x34, 0x12, 0xCB, 0xFF, 0x01, 0x02, 0x03, 0x04, 0xAA, 0xBB])
    #expect(header.flags == 0x03)
    #expect(header.gsoType == 0x81)  // GSO TCPv4 with the ECN bit: kept as it came
    #expect(header.headerLength == 0x1234)
    #expect(header.gsoSize == 0xFFCB)
    #expect(header.checksumStart == 0x0201)
    #expect(header.checksumOffset == 0x0403)
  }

  /// `VIRTIO_NET_HDR_F_NEEDS_CSUM` (the device will complete it) and
  /// `VIRTIO_NET_HDR_F_DATA_VALID` (it was verified) each make the checksum trusted; neither
  /// (a frame from the wire the kernel did not check) does not.
  @Test(arguments: [
    (UInt8(0), false), (UInt8(1), true), (UInt8(2), true), (UInt8(3), true), (UInt8(4), false),
  ])
  func checksumTrustFollowsTheFlags(flags: UInt8, trusted: Bool) {
    var bytes = [UInt8](repeating: 0, count: VirtioNetHeader.length)
    bytes[0] = flags
    #expect(parsed(bytes).checksumTrusted == trusted)
  }

  /// Only the first 12 bytes are the header; the frame after it does not change what is read.
  @Test func onlyTheFirstTwelveBytesAreRead() {
    let frame: [UInt8] = Array(repeating: 0xFF, count: 60)
    #expect(parsed(Self.kernelTSO + frame) == parsed(Self.kernelTSO))
  }

  // MARK: Writing what the kernel reads

  /// A complete frame: all twelve bytes zero (`VIRTIO_NET_HDR_GSO_NONE`, no flags).
  @Test func noOffloadIsAllZeros() {
    let header = VirtioNetHeader(offload: .none, frameStart: Self.frameStart)
    #expect(header == VirtioNetHeader())
    #expect(written(header) == [UInt8](repeating: 0, count: 12))
  }

  /// The stack's TCP checksum offload reads as the kernel's own: the checksum's start is
  /// counted from the frame's start, not from the buffer's.
  @Test func tcpChecksumOffloadIsWrittenAsTheKernelWritesIt() {
    let offload = TransmitOffload.checksum(start: Self.frameStart + 34, checksumOffset: 16)
    let header = VirtioNetHeader(offload: offload, frameStart: Self.frameStart)
    #expect(written(header) == Self.kernelSYN)
  }

  @Test func udpChecksumOffloadIsWrittenAsTheKernelWritesIt() {
    let offload = TransmitOffload.checksum(start: Self.frameStart + 34, checksumOffset: 6)
    let header = VirtioNetHeader(offload: offload, frameStart: Self.frameStart)
    #expect(written(header) == Self.kernelUDP)
  }

  /// A large segment for the device to cut: GSO TCPv4, the segment size, and the length of
  /// every header up to the end of TCP's (Ethernet + IPv4 + TCP).
  @Test func tcpSegmentationOffloadIsWrittenAsTheKernelWritesIt() {
    let offload = TransmitOffload.tcpSegmentation(
      start: Self.frameStart + 34, checksumOffset: 16, headerLength: 20, segmentSize: 1460)
    let header = VirtioNetHeader(offload: offload, frameStart: Self.frameStart)
    #expect(written(header) == Self.kernelTSO)
  }

  /// With TCP options (timestamps: a 32-byte header) and a jumbo segment size: the header
  /// length grows with them, and a size above 255 bytes is written little-endian.
  @Test func tcpSegmentationOffloadWithOptionsAndALargeSegmentSize() {
    let offload = TransmitOffload.tcpSegmentation(
      start: 64 + 34, checksumOffset: 16, headerLength: 32, segmentSize: 65_483)
    let header = VirtioNetHeader(offload: offload, frameStart: 64)
    #expect(header.headerLength == 14 + 20 + 32)
    #expect(
      written(header) == [0x01, 0x01, 0x42, 0x00, 0xCB, 0xFF, 0x22, 0x00, 0x10, 0x00, 0x00, 0x00])
  }

  /// A frame at the very start of its buffer (no headroom counted in the offsets) and an IPv4
  /// header with options (24 bytes) move the checksum's start accordingly.
  @Test func theChecksumStartIsRelativeToTheFrame() {
    let offload = TransmitOffload.checksum(start: 14 + 24, checksumOffset: 16)
    let header = VirtioNetHeader(offload: offload, frameStart: 0)
    #expect(header.checksumStart == 38)
    #expect(written(header)[6...7] == [0x26, 0x00])
  }

  /// What is written reads back the same, for every kind of offload.
  @Test(arguments: [
    TransmitOffload.none,
    .checksum(start: 194, checksumOffset: 16),
    .checksum(start: 194, checksumOffset: 6),
    .tcpSegmentation(start: 194, checksumOffset: 16, headerLength: 20, segmentSize: 1460),
    .tcpSegmentation(start: 194, checksumOffset: 16, headerLength: 60, segmentSize: 8948),
  ])
  func whatIsWrittenReadsBack(offload: TransmitOffload) {
    let header = VirtioNetHeader(offload: offload, frameStart: 160)
    #expect(parsed(written(header)) == header)
  }
}
