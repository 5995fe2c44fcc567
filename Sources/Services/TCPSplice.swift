import NetworkAPI

/// Bytes copied one way between two TCP connections, as a relay splices them: read what the
/// source has (into a buffer that grows to 64 KiB), write all of it to the destination before
/// reading more, so a slow destination stops the reading (back-pressure through the
/// connections' windows, never a growing queue); the source's end (FIN) becomes the
/// destination's half-close (RFC 9293 §3.6); a failure on either side resets both.
public enum TCPSplice {
  /// The largest read, and so the most bytes held between the two connections.
  public static let bufferLimit = 64 * 1024

  /// Copies until `source` ends or fails; calls `copied` with each piece's size after it was
  /// written. Returns whether the copy ended with the source's FIN (false: both were reset).
  @discardableResult
  public static func copy<Source: TCPConnectionHandle, Destination: TCPConnectionHandle>(
    from source: Source, to destination: Destination, copied: (Int) -> Void
  ) async -> Bool {
    var buffer = GrowingReadBuffer(limit: bufferLimit)
    do {
      while true {
        let count = try await buffer.read(from: source)
        if count == 0 { break }
        try await destination.write(buffer.bytes[0..<count])
        copied(count)
      }
      try await destination.shutdownWrite()
      return true
    } catch {
      await source.abort()
      await destination.abort()
      return false
    }
  }
}
