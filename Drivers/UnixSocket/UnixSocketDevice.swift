import CLinuxShims
import Glibc
import NetCore

/// Ethernet frames over a Unix stream socket, each preceded by its length as a 32-bit
/// big-endian integer: the framing of QEMU's `-netdev stream` (and `-netdev socket`), which
/// passt speaks too.
///
/// In connect mode (`netstackd --unix PATH`) it connects to a listening QEMU or passt; when the
/// peer goes away, ``receive(limit:_:)`` throws ``UnixSocketError/peerClosed(_:)``. In listen
/// mode (`--unix-listen PATH`) it accepts one peer at a time and waits for the next when the
/// current one leaves. Everything is non-blocking; the descriptor the event loop waits on is
/// an inner epoll instance over the listening and connected sockets, so it stays the same
/// across reconnections. Writes are batched with `writev`; a frame the kernel takes only in
/// part is finished before any other (bounded by one frame).
public struct UnixSocketDevice: ~Copyable, NetworkDevice {
  public typealias Failure = UnixSocketError

  /// Which side of the link this is.
  public enum Mode: Equatable, Sendable {
    case connect(String)
    case listen(String)
  }

  public let mode: Mode
  public let mtu: Int
  public var hardwareAddress: MACAddress? { nil }
  /// The descriptor for the event loop: an epoll instance over this device's sockets.
  public let fileDescriptor: Int32
  private let listener: Int32?
  private var connection: Int32?
  /// Received bytes not yet consumed: the start of the next frame.
  private var incoming: UnsafeMutableRawBufferPointer
  private var incomingCount = 0
  /// The unwritten rest of a frame the kernel took only in part.
  private var outgoingRest: [UInt8] = []
  private var watchingWritable = false

  /// Frames dropped because no peer was connected.
  public private(set) var framesDroppedNoPeer: UInt64 = 0
  /// Peers accepted (listen mode).
  public private(set) var peersAccepted: UInt64 = 0

  /// The largest frame accepted from the peer: a 65535-byte IPv4 packet plus Ethernet header.
  public static let maximumFrameLength = 65535 + 18

  public init(mode: Mode, mtu: Int) throws(UnixSocketError) {
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
    UnixSocketDevice.watch(poller, (connection ?? listener)!, events: UInt32(EPOLLIN.rawValue))
    self.mode = mode
    self.mtu = mtu
    self.listener = listener
    self.connection = connection
    fileDescriptor = poller
    incoming = .allocate(byteCount: 4 * (UnixSocketDevice.maximumFrameLength + 4), alignment: 16)
  }

  deinit {
    if let connection { close(connection) }
    if let listener {
      close(listener)
      if case .listen(let path) = mode { unlink(path) }
    }
    close(fileDescriptor)
    incoming.deallocate()
  }

  /// Whether a peer is connected.
  public var isConnected: Bool { connection != nil }

  public mutating func receive(
    limit: Int, _ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void
  ) throws(UnixSocketError) -> Int {
    // Drain the inner epoll's readiness so the outer loop does not spin on it.
    var events = [epoll_event](repeating: epoll_event(), count: 4)
    _ = epoll_wait(fileDescriptor, &events, 4, 0)
    if connection == nil, let listener {
      let accepted = netstack_accept(listener)
      if accepted >= 0 {
        connection = accepted
        peersAccepted += 1
        incomingCount = 0
        outgoingRest = []
        UnixSocketDevice.watch(fileDescriptor, accepted, events: UInt32(EPOLLIN.rawValue))
      }
    }
    guard let connection else { return 0 }
    var frames = 0
    while frames < limit {
      let room = incoming.count - incomingCount
      let count = read(connection, incoming.baseAddress! + incomingCount, room)
      if count == 0 {
        try peerLeft()
        return frames
      }
      if count < 0 {
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { break }
        try peerLeft()
        return frames
      }
      incomingCount += count
      frames += try deliverFrames(handler)
    }
    return frames
  }

  /// Hands every complete frame in the buffer to `handler` and keeps the incomplete rest.
  private mutating func deliverFrames(_ handler: (Span<UInt8>, ReceivedFrameInfo) -> Void)
    throws(UnixSocketError) -> Int
  {
    var offset = 0
    var frames = 0
    let base = incoming.baseAddress!.assumingMemoryBound(to: UInt8.self)
    while incomingCount - offset >= 4 {
      let length =
        Int(base[offset]) << 24 | Int(base[offset + 1]) << 16 | Int(base[offset + 2]) << 8
        | Int(base[offset + 3])
      guard length > 0, length <= UnixSocketDevice.maximumFrameLength else {
        try peerLeft()
        throw .badFrameLength(length)
      }
      guard incomingCount - offset - 4 >= length else { break }
      handler(
        Span(_unsafeElements: UnsafeBufferPointer(start: base + offset + 4, count: length)),
        ReceivedFrameInfo())
      offset += 4 + length
      frames += 1
    }
    if offset > 0 {
      (incoming.baseAddress!).copyMemory(
        from: incoming.baseAddress! + offset, byteCount: incomingCount - offset)
      incomingCount -= offset
    }
    return frames
  }

  /// The peer closed or failed: forget it; in connect mode that ends the link.
  private mutating func peerLeft() throws(UnixSocketError) {
    if let connection {
      stopWatching(fileDescriptor, connection)
      close(connection)
    }
    connection = nil
    incomingCount = 0
    outgoingRest = []
    watchingWritable = false
    if case .connect(let path) = mode { throw .peerClosed(path) }
  }

  public mutating func transmit(_ queue: inout BoundedQueue<PacketBuffer>) throws(UnixSocketError) {
    guard let connection else {
      while queue.popFirst() != nil { framesDroppedNoPeer += 1 }
      return
    }
    // First the rest of a frame the kernel took only in part.
    if !outgoingRest.isEmpty {
      let written = outgoingRest.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
      if written < 0 {
        if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { try peerLeft() }
        setWritableInterest(true, connection)
        return
      }
      outgoingRest.removeFirst(written)
      if !outgoingRest.isEmpty {
        setWritableInterest(true, connection)
        return
      }
    }
    // Then up to 64 frames per writev: a length prefix and the frame for each.
    var prefixes = [UInt32](repeating: 0, count: 64)
    var lengths = [Int](repeating: 0, count: 64)
    while !queue.isEmpty {
      var frames: [PacketBuffer] = []
      while frames.count < 64, let frame = queue.popFirst() { frames.append(frame) }
      var vectors: [iovec] = []
      vectors.reserveCapacity(frames.count * 2)
      var total = 0
      prefixes.withUnsafeMutableBufferPointer { prefix in
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
          total += 4 + lengths[index]
        }
      }
      let written = writev(connection, vectors, Int32(vectors.count))
      if written < 0 {
        let code = errno
        if code != EAGAIN && code != EWOULDBLOCK && code != EINTR {
          try peerLeft()
          return
        }
        // Nothing went: put the frames back in front, in order.
        var rest = BoundedQueue<PacketBuffer>(limit: queue.limit)
        for frame in frames { rest.append(frame) }
        while let frame = queue.popFirst() { rest.append(frame) }
        queue = rest
        setWritableInterest(true, connection)
        return
      }
      if written < total {
        // Keep the unwritten part of the frame cut in the middle; later frames stay queued.
        var consumed = 0
        var rest = BoundedQueue<PacketBuffer>(limit: queue.limit)
        for (index, frame) in frames.enumerated() {
          let size = 4 + lengths[index]
          if consumed + size <= written {
            consumed += size
            continue
          }
          if consumed < written {
            var bytes = withUnsafeBytes(of: UInt32(lengths[index]).bigEndian) { Array($0) }
            frame.withBytes { bytes.append(contentsOf: $0.copyToArray().prefix(lengths[index])) }
            outgoingRest = Array(bytes[(written - consumed)...])
            consumed = written
          } else {
            rest.append(frame)
          }
        }
        while let frame = queue.popFirst() { rest.append(frame) }
        queue = rest
        setWritableInterest(true, connection)
        return
      }
    }
    setWritableInterest(false, connection)
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
    var size: Int32 = 4 << 20
    setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    return descriptor
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

  private static func watch(_ poller: Int32, _ descriptor: Int32, events: UInt32) {
    var event = epoll_event()
    event.events = events
    event.data.fd = descriptor
    epoll_ctl(poller, EPOLL_CTL_ADD, descriptor, &event)
  }
}

/// Removes a descriptor from an epoll instance.
private func stopWatching(_ poller: Int32, _ descriptor: Int32) {
  var event = epoll_event()
  epoll_ctl(poller, EPOLL_CTL_DEL, descriptor, &event)
}
