import IPv4
import NetCore
import NetStack
import UDP

/// The echo service over UDP (RFC 862): every datagram to the port goes back to its sender.
struct UDPEchoService {
  let endpoint: UDPEndpointID

  init(port: UInt16, stack: inout DirectStack) throws(UDPError) {
    endpoint = try stack.udp.bind(port: port)
  }

  /// Answers every datagram waiting on the port.
  func run(_ stack: inout DirectStack, now: Instant) {
    while let datagram = stack.udp.receive(from: endpoint) {
      // Never answer a broadcast: replies to the whole subnet would multiply.
      guard !datagram.destination.isBroadcast, datagram.destination == stack.ipv4.address?.address
      else {
        continue
      }
      try? stack.udp.send(
        datagram.payload.span, from: endpoint, to: datagram.source, port: datagram.sourcePort,
        through: &stack.ipv4, now: now)
    }
  }
}
