import NetCore

/// A guest's TCP connection to the forwarder (RFC 7766): the bytes of its next query so far,
/// how many of its queries wait for answers, and until when it may stay idle.
struct DNSGuestStream {
  var framer = DNSStreamFramer(maximumMessageLength: DNSForwarderConfiguration.maximumTCPMessage)
  /// Queries of this connection waiting for an answer.
  var outstanding = 0
  /// When it is closed if no query waits by then.
  var idleDeadline: Instant
  /// The guest will send nothing more: close once `outstanding` is 0.
  var ended = false

  init(idleDeadline: Instant) { self.idleDeadline = idleDeadline }
}
