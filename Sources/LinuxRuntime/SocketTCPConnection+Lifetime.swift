import Glibc

/// What a relay that owns a host connection does to bound its life: keepalive and a user
/// timeout on the socket, and an end to a read that waits for a peer gone quiet.
extension SocketTCPConnection {
  /// Sets keepalive and the user timeout on the connection's socket (``HostSocketLifetime``).
  /// Nothing once the connection is closed or aborted. On the loop's thread.
  public func apply(_ lifetime: HostSocketLifetime) {
    guard let descriptor = socket.first else { return }
    lifetime.apply(to: descriptor)
  }

  /// Shuts the socket down for reading (`shutdown(SHUT_RD)`): a `read` that waits returns the
  /// end of the stream at once, and nothing more is read; the socket stays open until closed.
  /// Nothing once the connection is closed or aborted.
  public func stopReading() async {
    await stack.loop.run { () in
      guard let descriptor = socket.first else { return }
      _ = shutdown(descriptor, Int32(SHUT_RD))
    }
  }
}
