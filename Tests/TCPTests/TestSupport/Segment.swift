import NetCore
import TCP

/// A TCP segment as a test writes it: what the peer sends, or what the stack is expected to
/// send. Everything but the ports (which the harness fills in and checks) is explicit, so that
/// an expectation names the exact segment (smoltcp's `TcpRepr` templates in `socket/tcp.rs`).
struct Segment: Equatable, CustomStringConvertible {
  var flags: TCPFlags
  var sequence: SequenceNumber
  /// The acknowledgment field (zero when ACK is not set).
  var acknowledgment: SequenceNumber
  /// The window field as sent (scaled down).
  var window: UInt16
  var options: TCPOptions
  var payload: [UInt8]

  init(
    _ flags: TCPFlags, seq: SequenceNumber, ack: SequenceNumber = SequenceNumber(0),
    window: UInt16 = 65535, options: TCPOptions = TCPOptions(), payload: [UInt8] = []
  ) {
    self.flags = flags
    sequence = seq
    acknowledgment = ack
    self.window = window
    self.options = options
    self.payload = payload
  }

  /// Sequence space the segment occupies.
  var sequenceLength: Int {
    payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
  }

  var description: String {
    var text = "<SEQ=\(sequence)>"
    if flags.contains(.ack) { text += "<ACK=\(acknowledgment)>" }
    text += "<CTL=\(flags)><WND=\(window)>"
    if options != TCPOptions() { text += "<OPT=\(options)>" }
    if !payload.isEmpty { text += "<DATA=\(payload.count)>" }
    return text
  }
}

extension TCPOptions {
  /// Options built field by field, for templates.
  static func with(
    mss: UInt16? = nil, windowScale: UInt8? = nil, sackPermitted: Bool = false,
    timestamp: (value: UInt32, echo: UInt32)? = nil, sack: [SACKBlock] = []
  ) -> TCPOptions {
    var options = TCPOptions()
    options.maximumSegmentSize = mss
    options.windowScale = windowScale
    options.sackPermitted = sackPermitted
    options.timestamp = timestamp.map { TCPTimestampOption(value: $0.value, echoReply: $0.echo) }
    options.sackBlocks = sack
    return options
  }
}

/// `count` bytes of a recognisable pattern starting at `start` (byte i is `(start + i) % 251`),
/// so that any slice of a stream names its offset.
func pattern(_ count: Int, from start: Int = 0) -> [UInt8] {
  (0..<count).map { UInt8((start + $0) % 251) }
}
