import Glibc
import NetCore
import NetStack

/// Writes frames to a file in the classic libpcap format (`PcapFormat`: link type 1,
/// Ethernet; nanosecond timestamps), which tcpdump, tshark and Wireshark read: the sink of a
/// `PcapDevice` (`netstackd --pcap`).
///
/// Buffered through stdio; ``flush()`` makes what was written so far readable by another
/// program (the device flushes once a second while frames pass, the daemon on exit).
public final class PcapWriter: PcapSink {
  private let file: UnsafeMutablePointer<FILE>
  /// The file written.
  public let path: String
  /// Frames written.
  public private(set) var framesWritten: UInt64 = 0

  /// Creates (or truncates) the file and writes the pcap file header.
  public init(path: String) throws(PcapError) {
    guard let file = fopen(path, "wb") else { throw .cannotOpen(path, errno) }
    self.file = file
    self.path = path
    let header = PcapFormat.fileHeader
    fwrite(header, 1, header.count, file)
  }

  deinit { fclose(file) }

  /// Appends one frame with the current wall-clock time (`now`, the stack's monotonic time,
  /// is not a date).
  public func record(_ frame: Span<UInt8>, at now: Instant) {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    let header = PcapFormat.recordHeader(
      seconds: UInt32(truncatingIfNeeded: time.tv_sec),
      nanoseconds: UInt32(truncatingIfNeeded: time.tv_nsec), length: frame.count)
    fwrite(header, 1, header.count, file)
    let captured = min(frame.count, Int(PcapFormat.snapshotLength))
    frame.withUnsafeBufferPointer { bytes in
      _ = fwrite(bytes.baseAddress, 1, captured, file)
    }
    framesWritten += 1
  }

  /// Pushes buffered records to the file.
  public func flush() { fflush(file) }
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
