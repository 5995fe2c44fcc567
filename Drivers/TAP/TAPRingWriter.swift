import CLinuxShims
import Glibc
import NetCore

/// Writes a TAP device's frames through an io_uring (`io_uring_setup(2)`): each frame is an
/// `IORING_OP_WRITE` submission on the TAP descriptor, and the frames of one transmit go to
/// the kernel together, with one `io_uring_enter(2)` (or none, when a submission thread,
/// `IORING_SETUP_SQPOLL`, takes them from the ring). See ``TAPWriteMode``.
///
/// A frame's buffer is held until its completion arrives (the kernel reads it during the
/// write), at most ``capacity`` frames at a time: a transmit that finds every slot taken leaves
/// the rest of its queue for the next poll, as `EAGAIN` from `write(2)` would. Without a
/// submission thread the kernel writes during `io_uring_enter(2)`, so the completions are
/// there when it returns and the buffers go back at once.
final class TAPRingWriter {
  /// Submission slots (a power of two): frames in flight at most.
  static let defaultCapacity = 256

  private let ring: OpaquePointer
  /// The frames being written, by slot (the completion's tag).
  private var inFlight: [PacketBuffer?]
  private var freeSlots: [Int]

  /// `io_uring_enter(2)` calls made to submit: one a transmit, or, with a submission thread,
  /// one each time it had gone to sleep and had to be woken.
  private(set) var submissions: UInt64 = 0
  /// Completions: frames written, and frames the kernel refused (a negative result).
  private(set) var framesWritten: UInt64 = 0
  private(set) var framesRefused: UInt64 = 0

  /// A ring for `mode` (not ``TAPWriteMode/write``); throws the errno of `io_uring_setup(2)`
  /// when the kernel refuses it (ENOSYS, EPERM from `kernel.io_uring_disabled` or seccomp).
  init(mode: TAPWriteMode, capacity: Int = TAPRingWriter.defaultCapacity) throws(TAPError) {
    var sqpoll: Int32 = 0
    var idle: UInt32 = 0
    if case .ioURingSubmissionThread(let interval) = mode {
      sqpoll = 1
      idle = UInt32(clamping: max(interval.milliseconds, 1))
    }
    var error: Int32 = 0
    guard let ring = netstack_uring_open(UInt32(capacity), sqpoll, idle, &error) else {
      throw .system(operation: "io_uring_setup", errno: -error)
    }
    self.ring = ring
    inFlight = Array(repeating: nil, count: capacity)
    freeSlots = Array((0..<capacity).reversed())
  }

  deinit {
    finishWrites()
    netstack_uring_close(ring)
  }

  /// Waits until every frame handed to the ring has been written (or refused), submitting
  /// those an earlier transmit could not; the device calls it before it closes the TAP
  /// descriptor, which the kernel looks up as it takes each write (with a submission thread,
  /// after the transmit returned). No write may still read a buffer once they are freed.
  func finishWrites() {
    let outstanding = inFlight.count - freeSlots.count
    if outstanding > 0 { _ = netstack_uring_wait(ring, UInt32(outstanding)) }
    takeCompletions()
  }

  /// How many frames may be in flight at once.
  var capacity: Int { inFlight.count }
  /// Frames handed to the kernel whose completion has not been taken yet.
  var framesInFlight: Int { inFlight.count - freeSlots.count }

  /// Queues each frame of `queue` (with the bytes `wireBytes` gives for it: the frame with its
  /// virtio-net header, or nil for one that cannot be sent, dropped and counted by the
  /// caller) while a slot is free, then submits them all; takes the completions before and
  /// after. Throws when `io_uring_enter(2)` fails other than transiently.
  func transmit(
    _ queue: inout FrameQueue, fileDescriptor: Int32,
    wireBytes: (PacketBuffer) -> UnsafeRawBufferPointer?
  ) throws(TAPError) {
    takeCompletions()
    var queued = 0
    while let frame = queue.first, let slot = freeSlots.last {
      _ = queue.popFirst()
      guard let bytes = wireBytes(frame) else { continue }
      let added = netstack_uring_queue_write(
        ring, fileDescriptor, bytes.baseAddress, UInt32(bytes.count), UInt64(slot))
      // The ring has as many entries as there are slots, so it is never full here; were it
      // full, the frame is dropped and counted rather than the loop stopped.
      guard added == 0 else {
        framesRefused += 1
        break
      }
      freeSlots.removeLast()
      inFlight[slot] = frame
      queued += 1
    }
    // Submitted also when nothing new was queued: entries an earlier call could not submit
    // (EAGAIN, EBUSY) hold their slots until they go.
    let submitted = netstack_uring_submit(ring)
    if submitted < 0 && -submitted != EAGAIN && -submitted != EBUSY {
      throw .system(operation: "io_uring_enter", errno: -submitted)
    }
    if submitted > 0 { submissions += 1 }
    if queued > 0 || submitted > 0 { takeCompletions() }
  }

  /// Takes every completion there is: the frame's buffer is let go, and the write counted.
  func takeCompletions() {
    var tag: UInt64 = 0
    var result: Int32 = 0
    while netstack_uring_complete(ring, &tag, &result) == 1 {
      let slot = Int(tag)
      guard slot < inFlight.count, inFlight[slot] != nil else { continue }
      inFlight[slot] = nil
      freeSlots.append(slot)
      if result < 0 { framesRefused += 1 } else { framesWritten += 1 }
    }
  }
}
