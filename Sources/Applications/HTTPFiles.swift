/// Where the HTTP service finds files (netstackd's `--http-root`): given a request path
/// (`/dir/name`), the regular file there, or nil. Closures rather than a protocol, so that
/// the session type stays the same whatever serves the files (the unikernel serves none).
public struct HTTPFiles {
  /// Opens the file at a request path; nil if there is none, or it may not be served.
  public let open: (_ path: String) -> HTTPFile?

  /// Files found by `open`.
  public init(open: @escaping (_ path: String) -> HTTPFile?) {
    self.open = open
  }
}

/// An open file the HTTP service sends: its size, and a way to read it at an offset. The file
/// stays open while the value (and what its closure holds) lives.
public struct HTTPFile {
  /// The file's length in bytes, as sent in `Content-Length`.
  public let size: Int
  /// Reads up to `buffer.count` bytes at `offset` into `buffer`; returns how many (0 at the
  /// end, or on an error).
  public let read: (_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) -> Int

  /// A file of `size` bytes read by `read`.
  public init(
    size: Int, read: @escaping (_ offset: Int, _ buffer: UnsafeMutableRawBufferPointer) -> Int
  ) {
    self.size = size
    self.read = read
  }
}
