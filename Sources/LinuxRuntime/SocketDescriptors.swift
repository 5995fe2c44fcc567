/// The host socket descriptors that one handle of the socket backend owns (a connection's
/// one; a listener's or UDP socket's one per bind address), given up exactly once.
///
/// The handles are structs, and every copy of one (each direction of a splice, the table of
/// flows that started it) shares this object: the first close or abort of any copy takes the
/// descriptors, and every later call finds none (a close or abort does nothing, any other
/// call fails with `NetworkError.closed`) instead of reaching the number again, which the
/// kernel hands to the next socket opened (close(2), POSIX.1-2017: the lowest free number).
/// Used on the loop's thread only.
final class SocketDescriptors: @unchecked Sendable {
  /// The descriptors while the handle is open (the first is the key its waiters wait on);
  /// empty once released.
  private(set) var open: [Int32]

  init(_ descriptors: [Int32]) {
    open = descriptors
  }

  /// The first descriptor (a connection's only one), or nil once released.
  var first: Int32? { open.first }

  /// Gives the descriptors to the caller, who closes them; none from the second call on.
  func take() -> [Int32] {
    defer { open = [] }
    return open
  }
}
