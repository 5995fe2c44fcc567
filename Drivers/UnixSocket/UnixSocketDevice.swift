import CLinuxShims
import Glibc
import NetCore
import UnixSocketFraming

/// Ethernet frames over a Unix stream socket, each preceded by its length as a 32-bit
/// big-endian integer: the framing of QEMU's `-netdev stream` (and `-netdev socket`), which
/// passt speaks too (`StreamFrameDecoder`).
///
/// In connect mode (`netstackd --unix PATH`) it connects to a listening QEMU or passt; when the
/// peer goes away, ``receive(limit:now:_:)`` throws ``UnixSocketError/peerClosed(_:)``. In listen
/// mode (`--unix-listen PATH`) it serves one peer at a time: a peer that leaves, fails, or
/// sends a frame length of 0 or above ``maximumFrameLength`` is dropped and counted, the frames
/// queued for it are discarded, and the next peer (one may wait in the backlog meanwhile) is
/// accepted. Everything is non-blocking; the descriptor the event loop waits on is an inner
/// epoll instance over the listening and connected sockets, so it stays the same across
/// reconnections. Writes are batched with `sendmsg` and `MSG_NOSIGNAL` (a peer gone is `EPIPE`,
/// never SIGPIPE); a frame the kernel takes only in part is finished before any other (bounded
/// by one frame), and while the peer does not read, the frames waiting for it are bounded by
/// ``maximumQueuedBytes`` (the oldest beyond it are dropped and counted).
public struct UnixSocketDevice: ~Copyable, NetworkDevice {
  /// What the driver throws.
  public typealias Failure = UnixSocketError

  /// Which side of the link this is.
  public enum Mode: Equatable, Sendable {
    /// Connect to the socket at this path (a listening QEMU or passt).
    case connect(String)
    /// Listen at this path for one peer at a time (QEMU with `server=off`).
    case listen(String)
  }

  /// Which side of the link this is, and the socket's path.
  public let mode: Mode
  /// The largest IPv4 packet a frame carries.
  public let mtu: Int
  /// None: the stack chooses its MAC address.
  public var hardwareAddress: MACAddress? { nil }
  /// The descriptor for the event loop: an epoll instance over this device's sockets.
  public let fileDescriptor: Int32
  /// The most bytes of frames kept waiting while the peer does not read (see
  /// ``transmit(_:now:)``).
  public let maximumQueuedBytes: Int
  private let listener: Int32?
  private var connection: Int32?
  /// The connection failed on a write: nothing more is written to it, and the next receive
  /// drops it (it is shut down, so it reads as closed).
  private var connectionFailed = false
  /// Received bytes, split into frames.
  private var decoder: StreamFrameDecoder
  /// The unwritten rest of a frame the kernel took only in part.
  private var outgoingRest: [UInt8] = []
  private var watchingWritable = false

  /// What happened on the link.
  public private(set) var counters = UnixSocketCounters()

  /// The largest frame accepted from the peer: a 65535-byte IPv4 packet plus Ethernet header.
  public static let maximumFrameLength = 65535 + 18
  /// The default of ``maximumQueuedBytes``: 8 MiB, more than the 4096 frames the runtime
  /// queues at MTU 1500, 128 frames of the largest size.
  public static let defaultMaximumQueuedBytes = 8 << 20
  /// Frames per `sendmsg`.
  static let framesPerWrite = 64

  /// Connects to, or binds and listens at, the socket of `mode` (non-blocking); frames of up to
  /// `mtu` bytes of IPv4 are expected, and at most `maximumQueuedBytes` of frames wait for a
  /// peer that does not read.
  public init(mode: Mode, mtu: Int, maximumQueuedBytes: Int = defaultMaximumQueuedBytes)
    throws(UnixSocketError)
  {
    let path: String
    switch mode {
    case .connect(let value), .listen(let value): path = value
    }
    guard path.utf8.count < 108 else { throw .pathTooLong(path) }
    // Open the socket first, then the inner epoll, so that a failure leaves nothing behind.
    var listener: Int32? = nil
    var connection: Int32? = nil
    switch mode {
    case .connect: connection = try UnixSocketDevice.connect(to: path)
    case .listen: listener = try UnixSocketDevice.listen(at: path)
    }
    let poller = epoll_create1(Int32(EPOLL_CLOEXEC))
    guard poller >= 0 else {
      let code = errno
      if let connection { close(connection) }
      if let listener {
        close(listener)
        unlink(path)
      }
      throw .system(operation: "epoll_create1", errno: code)
    }
    watch(poller, (connection ?? listener)!, events: UInt32(EPOLLIN.rawValue))
    self.mode = mode
    self.mtu = mtu
    self.maximumQueuedBytes = maximumQueuedBytes
    self.listener = listener
    self.connection = connection
    fileDescriptor = poller
    decoder = StreamFrameDecoder(maximumFrameLength: UnixSocketDevice.maximumFrameLength)
  }

  deinit {
    if let connection { close(connection) }
    if let listener {
      close(listener)
      if case .listen(let path) = mode { unlink(path) }
    }
    close(fileDescriptor)
  }

  /// Whether a peer is connected.
  public var isConnected: Bool { connection != nil }

  private var path: String {
    switch mode {
    case .connect(let path), .listen(let path): path
    }
  }

  // MARK: Receiving

  /// Accepts a waiting peer (listen mode), reads what the peer sent and hands each whole frame
  /// to `handler`, up to `limit` frames; drops a peer that breaks the framing or leaves (listen
  /// mode) or throws (connect mode). Returns how many frames were handed over.
  public mutating func receive(
    limit: Int, now: Instant, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(UnixSocketError) -> Int {
    // Drain the inner epoll's readiness so the outer loop does not spin on it.
    var events = [epoll_event](repeating: epoll_event(), count: 4)
    _ = epoll_wait(fileDescriptor, &events, 4, 0)
    if connection == nil { acceptPeer() }
    guard let connection else { return 0 }
    var frames = 0
    while frames < limit {
      let space = decoder.reserveSpace()
      let count = read(connection, space.baseAddress, space.count)
      if count == 0 {
        try dropPeer(.closed)
        return frames
      }
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { break }
        try dropPeer(.closed)
        return frames
      }
      decoder.commit(count)
      // Every whole frame now buffered goes to the stack (so none waits for more bytes).
      do {
        while try decoder.nextFrame({ handler($0, ReceivedFrameInfo()) }) {
          frames += 1
          counters.framesReceived += 1
        }
      } catch {
        switch error {
        case .badLength(let length): try dropPeer(.badLength(length))
        }
        return frames
      }
    }
    return frames
  }

  /// Listen mode without a peer: takes the next one, if one waits.
  private mutating func acceptPeer() {
    guard let listener else { return }
    let accepted = netstack_accept(listener)
    guard accepted >= 0 else { return }
    UnixSocketDevice.setBufferSizes(accepted)
    connection = accepted
    connectionFailed = false
    counters.peersAccepted += 1
    decoder.reset()
    outgoingRest = []
    watchingWritable = false
    // One peer at a time: the next waits in the backlog, and the listener is not watched
    // meanwhile (it would keep the inner epoll readable, and the loop spinning).
    stopWatching(fileDescriptor, listener)
    watch(fileDescriptor, accepted, events: UInt32(EPOLLIN.rawValue))
  }

  /// Why a peer is dropped.
  private enum PeerEnd {
    case closed
    case badLength(Int)
  }

  /// Closes the connection and forgets what was buffered for and from the peer; in listen
  /// mode watches for the next peer, in connect mode that ends the link (throws).
  private mutating func dropPeer(_ end: PeerEnd) throws(UnixSocketError) {
    if let connection {
      stopWatching(fileDescriptor, connection)
      close(connection)
    }
    connection = nil
    connectionFailed = false
    decoder.reset()
    if !outgoingRest.isEmpty { counters.framesDroppedNoPeer += 1 }
    outgoingRest = []
    watchingWritable = false
    switch end {
    case .closed: counters.peersClosed += 1
    case .badLength: counters.peersDroppedBadLength += 1
    }
    if let listener { watch(fileDescriptor, listener, events: UInt32(EPOLLIN.rawValue)) }
    if case .connect(let path) = mode {
      switch end {
      case .closed: throw .peerClosed(path)
      case .badLength(let length): throw .badFrameLength(path, length)
      }
    }
  }

  // MARK: Sending

  /// Writes the queued frames, oldest first, as far as the socket takes them; what it does
  /// not take stays queued (the event loop calls again when the socket is writable). Without
  /// a peer, or with one whose connection failed, the frames are dropped and counted. While
  /// the peer does not read, the oldest frames beyond ``maximumQueuedBytes`` are dropped
  /// (counted in ``UnixSocketCounters/framesDroppedSlowPeer``).
  public mutating func transmit(_ queue: inout FrameQueue, now: Instant) throws(UnixSocketError) {
    guard let connection, !connectionFailed else {
      while queue.popFirst() != nil { counters.framesDroppedNoPeer += 1 }
      return
    }
    guard writeOutgoingRest(connection) else {
      blocked(&queue, connection)
      return
    }
    while !queue.isEmpty {
      var frames: [PacketBuffer] = []
      while frames.count < UnixSocketDevice.framesPerWrite, let frame = queue.popFirst() {
        frames.append(frame)
      }
      let (written, lengths) = writeFrames(frames, connection)
      guard let written else {
        counters.framesDroppedNoPeer += UInt64(frames.count)
        failed(&queue, connection)
        return
      }
      // The frames written whole; the rest of one cut in the middle is finished first next
      // time; those not started go back to the front of the queue.
      var consumed = 0
      var unsent: [PacketBuffer] = []
      for (index, frame) in frames.enumerated() {
        let size = StreamFrameDecoder.prefixLength + lengths[index]
        if consumed + size <= written {
          consumed += size
          counters.framesSent += 1
        } else if consumed < written {
          var bytes = UnixSocketDevice.lengthPrefix(lengths[index])
          frame.withBytes { bytes.append(contentsOf: $0.copyToArray().prefix(lengths[index])) }
          outgoingRest = Array(bytes[(written - consumed)...])
          consumed = written
          counters.framesSent += 1
        } else {
          unsent.append(frame)
        }
      }
      if !unsent.isEmpty || !outgoingRest.isEmpty {
        UnixSocketDevice.putBack(unsent, into: &queue)
        blocked(&queue, connection)
        return
      }
    }
    setWritableInterest(false, connection)
  }

  /// Writes what is left of a frame cut in the middle; returns whether all of it went.
  private mutating func writeOutgoingRest(_ connection: Int32) -> Bool {
    while !outgoingRest.isEmpty {
      let written = outgoingRest.withUnsafeBytes {
        send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if written < 0 {
        let code = errno
        if code == EINTR { continue }
        if code != EAGAIN && code != EWOULDBLOCK { connectionFailed = true }
        return false
      }
      outgoingRest.removeFirst(written)
    }
    return true
  }

  /// One `sendmsg` of `frames` (a length prefix and the frame for each): the bytes written (0
  /// when the socket takes nothing now) and each frame's length on the wire; nil bytes when
  /// the connection failed.
  private mutating func writeFrames(_ frames: [PacketBuffer], _ connection: Int32) -> (
    Int?, [Int]
  ) {
    var prefixes = [UInt32](repeating: 0, count: frames.count)
    var lengths = [Int](repeating: 0, count: frames.count)
    var vectors: [iovec] = []
    vectors.reserveCapacity(frames.count * 2)
    let result = prefixes.withUnsafeMutableBufferPointer { prefix in
      for (index, frame) in frames.enumerated() {
        frame.withUnsafeStorage { storage, range in
          let bytes = UnsafeRawBufferPointer(rebasing: storage[range])
          lengths[index] = UnixSocketDevice.lengthWithoutPadding(bytes)
          prefix[index] = UInt32(lengths[index]).bigEndian
          vectors.append(
            iovec(iov_base: UnsafeMutableRawPointer(prefix.baseAddress! + index), iov_len: 4))
          vectors.append(
            iovec(iov_base: storage.baseAddress! + range.lowerBound, iov_len: lengths[index]))
        }
      }
      return vectors.withUnsafeMutableBufferPointer { vector in
        var message = msghdr()
        message.msg_iov = vector.baseAddress
        message.msg_iovlen = vector.count
        while true {
          let written = sendmsg(connection, &message, Int32(MSG_NOSIGNAL))
          if written >= 0 { return written }
          let code = errno
          if code == EINTR { continue }
          return code == EAGAIN || code == EWOULDBLOCK ? 0 : -1
        }
      }
    }
    // Every frame is held in `frames` until here, so the vectors' pointers stayed valid.
    withExtendedLifetime(frames) {}
    if result < 0 {
      connectionFailed = true
      return (nil, lengths)
    }
    return (result, lengths)
  }

  /// The peer takes nothing now: watch for writability, and keep what waits for it within
  /// ``maximumQueuedBytes``, dropping the oldest frames.
  private mutating func blocked(_ queue: inout FrameQueue, _ connection: Int32) {
    if connectionFailed {
      failed(&queue, connection)
      return
    }
    setWritableInterest(true, connection)
    var frames: [PacketBuffer] = []
    var bytes = outgoingRest.count
    while let frame = queue.popFirst() {
      bytes += StreamFrameDecoder.prefixLength + frame.count
      frames.append(frame)
    }
    var first = 0
    while bytes > maximumQueuedBytes, first < frames.count {
      bytes -= StreamFrameDecoder.prefixLength + frames[first].count
      first += 1
      counters.framesDroppedSlowPeer += 1
    }
    for frame in frames[first...] { queue.append(frame) }
  }

  /// A write failed (the peer closed, reset, or shut down its reading side): nothing more
  /// goes to it, the frames queued for it are dropped, and the connection is shut down so
  /// that the next receive sees it closed and drops the peer (in connect mode, ends the link).
  private mutating func failed(_ queue: inout FrameQueue, _ connection: Int32) {
    connectionFailed = true
    shutdown(connection, Int32(SHUT_RDWR))
    setWritableInterest(false, connection)
    while queue.popFirst() != nil { counters.framesDroppedNoPeer += 1 }
  }

  /// Puts `frames` back in front of the rest of `queue`, in order.
  private static func putBack(
    _ frames: [PacketBuffer], into queue: inout FrameQueue
  ) {
    guard !frames.isEmpty else { return }
    var rest = FrameQueue(limit: queue.limit, budget: queue.budget)
    for frame in frames { rest.append(frame) }
    while let frame = queue.popFirst() { rest.append(frame) }
    queue = rest
  }

  /// The 4-byte big-endian length in front of a frame.
  static func lengthPrefix(_ length: Int) -> [UInt8] {
    withUnsafeBytes(of: UInt32(length).bigEndian) { Array($0) }
  }

  /// How much of a frame goes on the socket: all of it, except the Ethernet padding of a short
  /// IPv4 frame (the bytes after the IPv4 total length, in a frame of at most 60 bytes).
  ///
  /// A socket has no minimum frame size, QEMU and Linux guests send short frames unpadded, and
  /// passt (Debian 12's 0.0~git20230309) takes a TCP segment's length from the frame's length:
  /// it read the padding of the stack's pure ACKs and FINs as 6 bytes of data and ignored
  /// those segments, retransmitting what was already acknowledged and never completing a close.
  static func lengthWithoutPadding(_ frame: UnsafeRawBufferPointer) -> Int {
    guard frame.count <= 60, frame.count >= 34, frame[12] == 0x08, frame[13] == 0x00 else {
      return frame.count
    }
    let ipv4Length = Int(frame[16]) << 8 | Int(frame[17])
    guard ipv4Length >= 20, 14 + ipv4Length < frame.count else { return frame.count }
    return 14 + ipv4Length
  }

  /// Watches the connection for writability only while something waits to be written.
  private mutating func setWritableInterest(_ wanted: Bool, _ connection: Int32) {
    guard wanted != watchingWritable else { return }
    watchingWritable = wanted
    let events = UInt32(EPOLLIN.rawValue) | (wanted ? UInt32(EPOLLOUT.rawValue) : 0)
    var event = epoll_event()
    event.events = events
    event.data.fd = connection
    epoll_ctl(fileDescriptor, EPOLL_CTL_MOD, connection, &event)
  }

  // MARK: Sockets

  private static func address(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(path.utf8)
      for index in 0..<bytes.count { raw[index] = bytes[index] }
      raw[bytes.count] = 0
    }
    return address
  }

  private static func connect(to path: String) throws(UnixSocketError) -> Int32 {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { throw .system(operation: "socket", errno: errno) }
    var target = address(path)
    let result = withUnsafePointer(to: &target) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard result == 0 else {
      let code = errno
      close(descriptor)
      if code == ENOENT || code == ECONNREFUSED { throw .noListener(path) }
      throw .system(operation: "connect to \(path)", errno: code)
    }
    _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    setBufferSizes(descriptor)
    return descriptor
  }

  /// Asks for 4 MiB socket buffers each way (the kernel caps them at `net.core.wmem_max` and
  /// `rmem_max`).
  private static func setBufferSizes(_ descriptor: Int32) {
    var size: Int32 = 4 << 20
    setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
  }

  private static func listen(at path: String) throws(UnixSocketError) -> Int32 {
    let descriptor = socket(
      AF_UNIX,
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard descriptor >= 0 else { throw .system(operation: "socket", errno: errno) }
    var target = address(path)
    let bound = withUnsafePointer(to: &target) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard bound == 0, Glibc.listen(descriptor, 1) == 0 else {
      let code = errno
      close(descriptor)
      throw .cannotListen(path, code)
    }
    return descriptor
  }
}

/// Adds a descriptor to an epoll instance.
private func watch(_ poller: Int32, _ descriptor: Int32, events: UInt32) {
  var event = epoll_event()
  event.events = events
  event.data.fd = descriptor
  epoll_ctl(poller, EPOLL_CTL_ADD, descriptor, &event)
}

/// Removes a descriptor from an epoll instance.
private func stopWatching(_ poller: Int32, _ descriptor: Int32) {
  var event = epoll_event()
  epoll_ctl(poller, EPOLL_CTL_DEL, descriptor, &event)
}
