/// One upstream query's host socket, as ``HostDNSUpstream`` keeps it: the descriptor and, for
/// TCP, whether the connection is up and how much of the query has been written.
struct HostDNSSocket {
  enum Kind {
    case udp
    case tcp
  }

  let descriptor: Int32
  let kind: Kind
  /// TCP: the bytes to write (the query with its length), emptied once written.
  var output: [UInt8] = []
  var written = 0
  /// TCP: the connection is established (the first EPOLLOUT without SO_ERROR).
  var connected = false
}
