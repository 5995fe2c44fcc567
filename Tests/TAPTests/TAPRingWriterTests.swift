import Glibc
import NetCore
import Testing

@testable import TAP

/// Frames written through the io_uring (`TAPRingWriter`), with and without a submission
/// thread: every frame arrives, whole and in order, and each buffer is let go once its write
/// completed. A pipe stands in for the TAP descriptor (a write is a write); reading it back
/// shows what the kernel was handed.
struct TAPRingWriterTests {
  /// `count` frames of distinct lengths and contents (frame k: k + 60 bytes of value k).
  static func frames(_ count: Int) -> [PacketBuffer] {
    (0..<count).map { index in
      let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index + 60)
      return PacketBuffer(copying: bytes.span, headroom: PacketBuffer.defaultHeadroom)
    }
  }

  /// A pipe whose ends do not block: [read end, write end].
  static func nonBlockingPipe() throws -> [Int32] {
    var ends: [Int32] = [0, 0]
    try #require(pipe(&ends) == 0)
    for end in ends { _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK) }
    return ends
  }

  /// The monotonic clock, in seconds.
  static func seconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  /// Reads `count` bytes from `descriptor`, waiting up to 10 s in all (the submission thread
  /// writes on its own time).
  static func read(_ count: Int, from descriptor: Int32) -> [UInt8] {
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    let deadline = Self.seconds() + 10
    while result.count < count && Self.seconds() < deadline {
      let got = buffer.withUnsafeMutableBytes {
        Glibc.read(descriptor, $0.baseAddress, min($0.count, count - result.count))
      }
      if got > 0 {
        result += buffer[0..<got]
      } else {
        usleep(1000)
      }
    }
    return result
  }

  @Test(arguments: [
    TAPWriteMode.ioURing, .ioURingSubmissionThread(idle: .milliseconds(1)),
  ])
  func framesArriveWholeAndInOrder(mode: TAPWriteMode) throws {
    let pipeEnds = try Self.nonBlockingPipe()
    defer {
      close(pipeEnds[0])
      close(pipeEnds[1])
    }
    let writer = try TAPRingWriter(mode: mode, capacity: 8)
    var queue = FrameQueue(limit: 64)
    let frames = Self.frames(20)
    for frame in frames {
      let appended = queue.append(frame)
      #expect(appended)
    }
    var expected: [UInt8] = []
    for index in 0..<20 { expected += [UInt8](repeating: UInt8(index), count: index + 60) }
    // At most 8 in flight: transmit until the queue is empty and every write completed.
    let deadline = Self.seconds() + 10
    while (!queue.isEmpty || writer.framesInFlight > 0) && Self.seconds() < deadline {
      try writer.transmit(&queue, fileDescriptor: pipeEnds[1]) { frame in
        frame.withUnsafeStorage { storage, range in
          UnsafeRawBufferPointer(rebasing: storage[range])
        }
      }
      #expect(writer.framesInFlight <= writer.capacity)
    }
    #expect(queue.isEmpty)
    #expect(writer.framesInFlight == 0)
    #expect(writer.framesWritten == 20)
    #expect(writer.framesRefused == 0)
    #expect(Self.read(expected.count, from: pipeEnds[0]) == expected)
    if mode == .ioURing {
      // One io_uring_enter per transmit that had frames: 20 frames, 8 slots, 3 at least.
      #expect(writer.submissions >= 3 && writer.submissions < 20)
    }
  }

  /// A frame for which there are no bytes to send (no room for its header) is skipped and not
  /// held; the others go.
  @Test func unsendableFrameIsSkipped() throws {
    let pipeEnds = try Self.nonBlockingPipe()
    defer {
      close(pipeEnds[0])
      close(pipeEnds[1])
    }
    let writer = try TAPRingWriter(mode: .ioURing, capacity: 4)
    var queue = FrameQueue(limit: 8)
    let frames = Self.frames(3)
    for frame in frames { queue.append(frame) }
    try writer.transmit(&queue, fileDescriptor: pipeEnds[1]) { frame in
      frame === frames[1]
        ? nil
        : frame.withUnsafeStorage { storage, range in
          UnsafeRawBufferPointer(rebasing: storage[range])
        }
    }
    #expect(queue.isEmpty)
    #expect(writer.framesWritten == 2)
    #expect(writer.framesInFlight == 0)
    let expected = [UInt8](repeating: 0, count: 60) + [UInt8](repeating: 2, count: 62)
    #expect(Self.read(expected.count, from: pipeEnds[0]) == expected)
  }

  /// A write the kernel refuses (a closed pipe: EPIPE) comes back as a refused frame, and its
  /// slot is free again.
  @Test func refusedWriteIsCounted() throws {
    let pipeEnds = try Self.nonBlockingPipe()
    close(pipeEnds[0])
    defer { close(pipeEnds[1]) }
    // Writing to a pipe without a reader raises SIGPIPE, unless it is ignored.
    let previous = signal(SIGPIPE, SIG_IGN)
    defer { signal(SIGPIPE, previous) }
    let writer = try TAPRingWriter(mode: .ioURing, capacity: 4)
    var queue = FrameQueue(limit: 8)
    for frame in Self.frames(2) { queue.append(frame) }
    try writer.transmit(&queue, fileDescriptor: pipeEnds[1]) { frame in
      frame.withUnsafeStorage { storage, range in
        UnsafeRawBufferPointer(rebasing: storage[range])
      }
    }
    #expect(writer.framesRefused == 2)
    #expect(writer.framesWritten == 0)
    #expect(writer.framesInFlight == 0)
  }

  @Test func modeDescriptions() {
    #expect(TAPWriteMode.write.description == "write")
    #expect(TAPWriteMode.ioURing.description == "io_uring")
    #expect(
      TAPWriteMode.ioURingSubmissionThread(idle: .milliseconds(1)).description
        == "io_uring-sqpoll (idle 1000 us)")
  }
}
