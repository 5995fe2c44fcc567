import Glibc
import NetCore
import NetStack
import Testing

@testable import LinuxRuntime

/// The `--pcap` file, checked byte by byte against the classic libpcap format (tcpdump's
/// `pcap-savefile(5)`): a 24-byte file header with the nanosecond magic, then per frame a
/// 16-byte record header and the frame's bytes, little-endian throughout.
@Suite(.serialized)
final class PcapWriterTests {
  let directory: String

  init() throws {
    var template = Array("/tmp/netstack-pcap-test.XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw PcapTestError.system("mkdtemp", errno) }
    directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  deinit {
    for name in ["frames.pcap", "large.pcap", "offload.pcap"] { unlink(directory + "/" + name) }
    rmdir(directory)
  }

  /// A UDP datagram Linux handed a TAP with offloads (captured on this project's VM, Linux
  /// 6.18: `sendto` of 100 bytes of "x" from 10.99.0.1 to 10.99.0.2 port 9): its virtio-net
  /// header said NEEDS_CSUM, so the UDP checksum field holds only the pseudo-header's sum
  /// (0x1546); the rest of the frame as it came.
  static let partialChecksumUDPFrame: [UInt8] =
    [
      0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xCA, 0x72, 0x29, 0xB4, 0x91, 0x75, 0x08, 0x00,  // Ethernet
      0x45, 0x00, 0x00, 0x80, 0x0D, 0x24, 0x40, 0x00, 0x40, 0x11, 0x18, 0x81,  // IPv4
      0x0A, 0x63, 0x00, 0x01, 0x0A, 0x63, 0x00, 0x02,
      0xD6, 0x6D, 0x00, 0x09, 0x00, 0x6C, 0x15, 0x46,  // UDP, checksum partial
    ] + [UInt8](repeating: 0x78, count: 100)

  // MARK: Helpers

  private func contents(of path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw PcapTestError.system("open", errno) }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let count = read(descriptor, &chunk, chunk.count)
      guard count > 0 else { break }
      bytes += chunk[0..<count]
    }
    return bytes
  }

  private func littleEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }

  private func realTime() -> (seconds: Int, nanoseconds: Int) {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return (time.tv_sec, time.tv_nsec)
  }

  /// The Internet checksum of `bytes` (RFC 1071), computed the plain way, to check the
  /// writer's completed checksum independently of the stack's own code.
  private func internetChecksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var index = 0
    while index + 1 < bytes.count {
      sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
      index += 2
    }
    if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
  }

  // MARK: Tests

  @Test func theFileHeaderIsLibpcapsWithNanosecondTimestamps() throws {
    let path = directory + "/frames.pcap"
    let writer = try PcapWriter(path: path)
    writer.flush()
    let bytes = try contents(of: path)
    #expect(
      bytes == [
        0x4D, 0x3C, 0xB2, 0xA1,  // magic 0xA1B23C4D: nanosecond timestamps, little-endian
        0x02, 0x00, 0x04, 0x00,  // version 2.4
        0x00, 0x00, 0x00, 0x00,  // thiszone
        0x00, 0x00, 0x00, 0x00,  // sigfigs
        0x00, 0x00, 0x04, 0x00,  // snaplen 262144
        0x01, 0x00, 0x00, 0x00,  // LINKTYPE_ETHERNET
      ])
    #expect(writer.framesWritten == 0)
  }

  @Test func eachFrameIsARecordHeaderAndItsBytes() throws {
    let path = directory + "/frames.pcap"
    let writer = try PcapWriter(path: path)
    let frames: [[UInt8]] = [
      Array(0..<60), Array(repeating: 0xAB, count: 1514), [0x01],
    ]
    let before = realTime()
    for frame in frames { writer.record(frame.span, at: .zero) }
    let after = realTime()
    writer.flush()
    #expect(writer.framesWritten == 3)
    #expect(writer.path == path)

    let bytes = try contents(of: path)
    #expect(bytes.count == 24 + frames.reduce(0) { $0 + 16 + $1.count })
    var offset = 24
    for frame in frames {
      let seconds = Int(littleEndian32(bytes, at: offset))
      let nanoseconds = Int(littleEndian32(bytes, at: offset + 4))
      #expect(seconds >= before.seconds && seconds <= after.seconds)
      #expect(nanoseconds < 1_000_000_000)
      #expect(
        (seconds, nanoseconds) >= (before.seconds, before.nanoseconds)
          && (seconds, nanoseconds) <= (after.seconds, after.nanoseconds))
      #expect(littleEndian32(bytes, at: offset + 8) == UInt32(frame.count))  // captured
      #expect(littleEndian32(bytes, at: offset + 12) == UInt32(frame.count))  // on the wire
      #expect(Array(bytes[(offset + 16)..<(offset + 16 + frame.count)]) == frame)
      offset += 16 + frame.count
    }
  }

  /// A frame longer than the snapshot length is cut there; its record keeps the length it had.
  @Test func aFrameLongerThanTheSnapshotIsTruncated() throws {
    let path = directory + "/large.pcap"
    let writer = try PcapWriter(path: path)
    let length = Int(PcapFormat.snapshotLength) + 1000
    let frame = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    writer.record(frame.span, at: .zero)
    writer.flush()
    let bytes = try contents(of: path)
    #expect(bytes.count == 24 + 16 + Int(PcapFormat.snapshotLength))
    #expect(littleEndian32(bytes, at: 24 + 8) == PcapFormat.snapshotLength)
    #expect(littleEndian32(bytes, at: 24 + 12) == UInt32(length))
    #expect(Array(bytes[40...]) == Array(frame.prefix(Int(PcapFormat.snapshotLength))))
  }

  /// A frame whose checksum the device completes (received with NEEDS_CSUM, or sent with an
  /// offload) is written as it looks on the wire by the `PcapDevice` that feeds the writer: the
  /// UDP checksum filled in, nothing else changed; the stack's frame is left as it was.
  @Test func aPartialChecksumIsCompletedInTheCapture() throws {
    let path = directory + "/offload.pcap"
    let writer = try PcapWriter(path: path)
    let frame = Self.partialChecksumUDPFrame
    var inner = MemoryDevice()
    inner.receivedFrameInfo = ReceivedFrameInfo(transportChecksumVerified: true)
    inner.inbox.append(PacketBuffer(copying: frame.span))
    var device = PcapDevice(wrapping: inner, sink: writer)
    _ = device.receive(limit: 1, now: .zero) { _, _ in }  // received with NEEDS_CSUM
    let packet = PacketBuffer(copying: frame.span)
    packet.offload = .checksum(start: packet.startIndex + 34, checksumOffset: 6)
    var queue = FrameQueue(limit: 4)
    queue.append(packet)  // sent with checksum offload
    queue.append(PacketBuffer(copying: frame.span))  // no offload: written as it is
    device.transmit(&queue, now: .zero)
    writer.flush()
    #expect(packet.withBytes { Array(copying: $0) } == frame)

    // The expected checksum: over the pseudo-header and the UDP datagram with a zero field.
    var datagram = Array(frame[34...])
    datagram[6] = 0
    datagram[7] = 0
    let pseudoHeader = Array(frame[26..<34]) + [0, 17, 0, UInt8(datagram.count)]
    let expected = internetChecksum(pseudoHeader + datagram)
    #expect(expected != 0x1546)

    let bytes = try contents(of: path)
    let record = 16 + frame.count
    #expect(bytes.count == 24 + 3 * record)
    for index in 0..<2 {
      let written = Array(bytes[(24 + index * record + 16)..<(24 + (index + 1) * record)])
      #expect(UInt16(written[40]) << 8 | UInt16(written[41]) == expected)
      #expect(Array(written[..<40]) == Array(frame[..<40]))
      #expect(Array(written[42...]) == Array(frame[42...]))
    }
    #expect(Array(bytes[(24 + 2 * record + 16)...]) == frame)
  }

  @Test func aFileThatCannotBeCreatedIsAnError() throws {
    let path = directory + "/no-such-directory/frames.pcap"
    #expect(throws: PcapError.self) { try PcapWriter(path: path) }
    do {
      _ = try PcapWriter(path: path)
    } catch {
      #expect(
        error.description == "cannot create '\(path)': No such file or directory")
    }
  }
}

enum PcapTestError: Error {
  case system(String, Int32)
}

extension Array where Element == UInt8 {
  /// The bytes of a span.
  init(copying span: Span<UInt8>) {
    self = (0..<span.count).map { span[$0] }
  }
}
