/// A buffer that host sockets are read into, of a fixed size, allocated at its first read: a
/// relay that carries no traffic of its kind (ping, UDP, DNS, TCP) holds none of its 64 KiB,
/// so an idle daemon's memory does not count buffers it has not used. Loop thread only.
struct ReceiveBuffer {
  /// The size it has once allocated.
  let size: Int
  private var storage: [UInt8] = []

  /// A buffer of `size` bytes, not yet allocated.
  init(size: Int) {
    self.size = size
  }

  /// Calls `body` with the whole buffer to read into, allocating it first if need be.
  mutating func withUnsafeMutableBytes<Result>(
    _ body: (UnsafeMutableRawBufferPointer) throws -> Result
  ) rethrows -> Result {
    if storage.isEmpty { storage = [UInt8](repeating: 0, count: size) }
    return try storage.withUnsafeMutableBytes(body)
  }

  /// Calls `body` with the bytes read so far (the whole buffer; empty before the first read).
  func withUnsafeBufferPointer<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result)
    rethrows -> Result
  {
    try storage.withUnsafeBufferPointer(body)
  }

  /// One byte of what was read.
  subscript(index: Int) -> UInt8 { storage[index] }

  /// Some of what was read.
  subscript(range: Range<Int>) -> ArraySlice<UInt8> { storage[range] }
}
