import Glibc
import NetCore
import NetStack

/// Writes frames to a file in the classic libpcap format (link type 1, Ethernet; nanosecond
/// timestamps), which tcpdump, tshark and Wireshark read.
///
/// Buffered through stdio; ``flush()`` makes what was written so far readable by another
/// program (the runner flushes once a second and on exit).
public final class PcapWriter {
  private let file: UnsafeMutablePointer<FILE>
  /// The file written.
  public let path: String
  /// Frames written.
  public private(set) var framesWritten: UInt64 = 0
  /// The most bytes of one frame stored (longer frames are truncated in the file).
  public static let snapshotLength: UInt32 = 262_144

  /// Creates (or truncates) the file and writes the pcap file header.
  public init(path: String) throws(PcapError) {
    guard let file = fopen(path, "wb") else { throw .cannotOpen(path, errno) }
    self.file = file
    self.path = path
    var header: [UInt8] = []
    PcapWriter.appendLittleEndian(UInt32(0xA1B2_3C4D), to: &header)  // nanosecond magic
    PcapWriter.appendLittleEndian(UInt16(2), to: &header)
    PcapWriter.appendLittleEndian(UInt16(4), to: &header)
    PcapWriter.appendLittleEndian(UInt32(0), to: &header)  // thiszone
    PcapWriter.appendLittleEndian(UInt32(0), to: &header)  // sigfigs
    PcapWriter.appendLittleEndian(PcapWriter.snapshotLength, to: &header)
    PcapWriter.appendLittleEndian(UInt32(1), to: &header)  // LINKTYPE_ETHERNET
    fwrite(header, 1, header.count, file)
  }

  deinit { fclose(file) }

  /// Appends one frame with the current wall-clock time.
  public func write(_ frame: Span<UInt8>) {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    let captured = min(UInt32(frame.count), PcapWriter.snapshotLength)
    var record: [UInt8] = []
    record.reserveCapacity(16)
    PcapWriter.appendLittleEndian(UInt32(truncatingIfNeeded: time.tv_sec), to: &record)
    PcapWriter.appendLittleEndian(UInt32(truncatingIfNeeded: time.tv_nsec), to: &record)
    PcapWriter.appendLittleEndian(captured, to: &record)
    PcapWriter.appendLittleEndian(UInt32(frame.count), to: &record)
    fwrite(record, 1, record.count, file)
    frame.withUnsafeBufferPointer { bytes in
      _ = fwrite(bytes.baseAddress, 1, Int(captured), file)
    }
    framesWritten += 1
  }

  /// Appends one frame whose transport checksum the device (the kernel behind a TAP with
  /// offloads) completes: the capture gets a copy with the checksum filled in, as the packet
  /// looks on the wire.
  public func writeCompletingChecksum(_ frame: Span<UInt8>) {
    let copy = PacketBuffer(copying: frame, headroom: 0)
    copy.withMutableBytes { FrameChecksum.completeTransportChecksum(&$0) }
    copy.withBytes { write($0) }
  }

  /// Pushes buffered records to the file.
  public func flush() { fflush(file) }

  private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8])
  {
    var remaining = value.littleEndian
    withUnsafeBytes(of: &remaining) { bytes.append(contentsOf: $0) }
  }
}

/// Why a pcap file could not be written.
public enum PcapError: Error, CustomStringConvertible {
  /// The file could not be created: its path and the `errno` of `fopen`.
  case cannotOpen(String, Int32)

  /// The error as one line naming the file.
  public var description: String {
    switch self {
    case .cannotOpen(let path, let code):
      "cannot create '\(path)': \(String(cString: strerror(code)))"
    }
  }
}
