import IPv4
import NetCore
import TCP

/// One segment the TCP layer handed to the network, parsed back with `TCPSegment`.
struct SentSegment {
  var source: IPAddress?
  var destination: IPAddress
  var sourcePort: UInt16
  var destinationPort: UInt16
  var segment: Segment
  /// The TCP header and payload as sent.
  var bytes: [UInt8]
  var checksumValid: Bool
  var dontFragment: Bool
  /// Set when the bytes did not parse as a TCP segment (a bug in the emitter).
  var parseError: WireError?
}

/// A network layer (gVisor's `link/channel` in spirit) that records every segment TCP sends,
/// and can be told to refuse them.
struct RecordingNetwork: TransportNetwork {
  var address: IPv4CIDR? = IPv4CIDR(address: Harness.localAddress, prefixLength: 24)
  var maximumPayloadSize = 1480
  var supportsSegmentationOffload = false
  var headroom = 34
  var sent: [SentSegment] = []
  var failure: TransportSendError? = nil

  /// On-link IPv4 destinations only.
  func sourceAddress(for destination: IPAddress) -> IPAddress? {
    guard case .v4(let destination) = destination, let address, address.contains(destination)
    else { return nil }
    return .v4(address.address)
  }

  func maximumPayloadSize(to destination: IPAddress) -> Int { maximumPayloadSize }

  mutating func send(
    _ payload: PacketBuffer, protocolNumber: IPProtocolNumber, to destination: IPAddress,
    options: TransportSendOptions, now: Instant
  ) throws(TransportSendError) {
    if let failure { throw failure }
    precondition(protocolNumber == .tcp)
    // With ``supportsSegmentationOffload`` the checksum is left to the device: do its part.
    payload.completeOffloadedChecksum()
    let bytes = payload.withBytes { $0.copyToArray() }
    sent.append(
      RecordingNetwork.parse(
        bytes, source: options.source, destination: destination,
        dontFragment: options.dontFragment))
  }

  static func parse(
    _ bytes: [UInt8], source: IPAddress?, destination: IPAddress, dontFragment: Bool
  ) -> SentSegment {
    let span = bytes.span
    do throws(WireError) {
      let view = try TCPSegment(checking: span)
      let segment = Segment(
        view.flags, seq: view.sequenceNumber, ack: view.acknowledgmentNumber,
        window: view.window, options: view.options, payload: view.payload.copyToArray())
      return SentSegment(
        source: source, destination: destination, sourcePort: view.sourcePort,
        destinationPort: view.destinationPort, segment: segment, bytes: bytes,
        checksumValid: view.checksumIsValid(
          source: source ?? .v4(.any), destination: destination),
        dontFragment: dontFragment)
    } catch {
      return SentSegment(
        source: source, destination: destination, sourcePort: 0, destinationPort: 0,
        segment: Segment([], seq: SequenceNumber(0), window: 0), bytes: bytes,
        checksumValid: false,
        dontFragment: dontFragment, parseError: error)
    }
  }
}
