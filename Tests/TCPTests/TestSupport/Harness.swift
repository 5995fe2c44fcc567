import NetCore
import Testing

@testable import IPv4
@testable import TCP

/// One TCP layer, the peer played by the test, a manual clock, and a network that records
/// what the layer sends: the fixture of every state-machine test (smoltcp's `send!`, `recv!`
/// and `socket_established()` in `socket/tcp.rs`, gVisor's `faketime`).
///
/// The stack is 10.0.0.1; the peer is 10.0.0.2. The peer's segments are written as
/// ``Segment`` templates, given a correct checksum and fed to ``TCPLayer/input`` as an
/// ``IPv4Delivery``; what the stack sends is parsed back with `TCPSegment` and compared whole.
/// ``ourNext`` and ``peerNext`` follow the two sequence spaces as the helpers move the
/// connection through its states, asserting the exact segment of each step.
struct Harness {
  static let localAddress = IPv4Address(10, 0, 0, 1)
  static let remoteAddress = IPv4Address(10, 0, 0, 2)
  /// The port the stack listens on (passive) or connects to (active).
  static let serverPort: UInt16 = 80
  /// The peer's port in a passive open.
  static let clientPort: UInt16 = 40000
  /// The peer's ISN.
  static let peerInitialSequence = SequenceNumber(1_000_000)
  /// The MSS the stack advertises: the fake network's 1480-byte payload less 20.
  static let ourMSS: UInt16 = 1460

  var tcp: TCPLayer
  var network = RecordingNetwork()
  /// The manual clock; ``advance(by:)`` moves it and polls.
  var now = Instant(nanoseconds: 1_000_000_000_000)
  var localPort = Harness.serverPort
  var remotePort = Harness.clientPort
  var listener: TCPListenerID?
  /// The connection under test, once the application holds it.
  var id: TCPConnectionID?

  /// ISS, learnt from our SYN or SYN-ACK, and the peer's IRS.
  var iss = SequenceNumber(0)
  var irs = Harness.peerInitialSequence
  /// The next sequence number each side will send.
  var ourNext = SequenceNumber(0)
  var peerNext = Harness.peerInitialSequence

  /// What the peer offers on its SYN (or SYN-ACK); by default only an MSS, so that segments
  /// carry no options unless a test asks for them.
  var peerSynOptions = TCPOptions.with(mss: 1460)
  /// The peer's window field on its SYN and on later segments.
  var peerWindow: UInt16 = 65535
  /// The peer's timestamp clock (when it offers timestamps).
  var peerClock: UInt32 = 7_000
  /// Our latest timestamp value the peer has seen (it echoes it).
  var lastOurTimestamp: UInt32 = 0
  /// The window field our segments carry while the receive buffer is empty.
  var ourWindow: UInt16 = 65535

  /// A layer with `configuration`; unless the test says otherwise, its receive buffers are
  /// fixed at the configured size, so that every segment's window is known (receive-buffer
  /// moderation has tests of its own).
  init(
    configuration: TCPConfiguration = TCPConfiguration(), seed: UInt64 = 1,
    fixedReceiveBuffer: Bool = true, budget: MemoryBudget = MemoryBudget()
  ) {
    var fixed = configuration
    if fixedReceiveBuffer && fixed.initialReceiveBufferSize == nil {
      fixed.initialReceiveBufferSize = fixed.receiveBufferSize
    }
    tcp = TCPLayer(configuration: fixed, seed: seed, budget: budget)
  }

  /// A harness whose layer listens on port 80.
  static func listening(
    configuration: TCPConfiguration = TCPConfiguration(), peerSynOptions: TCPOptions? = nil,
    backlog: Int = 128
  ) -> Harness {
    var harness = Harness(configuration: configuration)
    if let peerSynOptions { harness.peerSynOptions = peerSynOptions }
    harness.listener = try? harness.tcp.listen(port: Harness.serverPort, backlog: backlog)
    return harness
  }

  /// The options a peer that supports everything offers (Linux's SYN: MSS, SACK-permitted,
  /// timestamps, window scale 7).
  func fullOptions() -> TCPOptions {
    TCPOptions.with(
      mss: 1460, windowScale: 7, sackPermitted: true, timestamp: (peerClock, 0))
  }

  // MARK: Identity

  var configuration: TCPConfiguration { tcp.configuration }

  var tuple: TCPFourTuple {
    TCPFourTuple(
      localAddress: .v4(Harness.localAddress), localPort: localPort,
      remoteAddress: .v4(Harness.remoteAddress), remotePort: remotePort)
  }

  /// The connection under test: by handle, else by 4-tuple (a listener's, not yet accepted).
  var connection: TCPConnection? {
    if let id, let connection = tcp.connection(id) { return connection }
    guard let slot = tcp.slotByTuple[tuple] else { return nil }
    return tcp.occupant(ofSlot: slot)?.connection
  }

  /// The connection's state; TIME-WAIT also when only the TIME-WAIT table remembers it, and
  /// CLOSED when nothing does.
  var state: TCPState {
    if let connection { return connection.state }
    return tcp.timeWait.entry(for: tuple) != nil ? .timeWait : .closed
  }

  /// Our timestamp clock now (RFC 7323 §5.4: milliseconds, offset per connection).
  var ourClock: UInt32 {
    UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ tcp.timestampOffset(for: tuple)
  }

  /// Whether both sides offered timestamps (the peer's SYN and our configuration).
  var timestampsInUse: Bool { peerSynOptions.timestamp != nil && configuration.timestamps }
  var sackInUse: Bool { peerSynOptions.sackPermitted && configuration.selectiveAcknowledgments }
  var scalingInUse: Bool { peerSynOptions.windowScale != nil && configuration.windowScaling }

  /// The shift we advertise: the smallest that covers the receive buffer (RFC 7323 §2.3).
  var ourWindowShift: UInt8 {
    var shift: UInt8 = 0
    while shift < 14 && (65535 << Int(shift)) < configuration.receiveBufferSize { shift += 1 }
    return shift
  }

  /// Options on the peer's segments after the handshake: its timestamp, echoing ours.
  func peerOptions(sack: [SACKBlock] = []) -> TCPOptions {
    var options = TCPOptions()
    if timestampsInUse {
      options.timestamp = TCPTimestampOption(value: peerClock, echoReply: lastOurTimestamp)
    }
    options.sackBlocks = sack
    return options
  }

  /// Options expected on our segments after the handshake: our clock, echoing the peer's.
  func ourOptions(sack: [SACKBlock] = []) -> TCPOptions {
    var options = TCPOptions()
    if timestampsInUse {
      options.timestamp = TCPTimestampOption(value: ourClock, echoReply: peerClock)
    }
    options.sackBlocks = sack
    return options
  }

  // MARK: The peer's side

  /// Feeds one segment from the peer (10.0.0.2:remotePort → 10.0.0.1:localPort) to the layer,
  /// with a correct checksum unless `corruptChecksum`, then flushes as a runtime does after a
  /// batch of received frames (with `flush: false` the segment is one of a batch that goes
  /// on: the next ``deliver(_:from:to:corruptChecksum:flush:)`` or ``flush()`` ends it).
  mutating func deliver(
    _ segment: Segment, from source: IPv4Address = Harness.remoteAddress,
    to destination: IPv4Address = Harness.localAddress, corruptChecksum: Bool = false,
    flush: Bool = true
  ) {
    let header = TCPHeader(
      sourcePort: remotePort, destinationPort: localPort, sequenceNumber: segment.sequence,
      acknowledgmentNumber: segment.acknowledgment, flags: segment.flags,
      window: segment.window, options: segment.options)
    let packet = PacketBuffer(
      capacity: PacketBuffer.defaultHeadroom + header.length + segment.payload.count)
    packet.append(copying: segment.payload.span)
    header.prepend(to: packet, source: .v4(source), destination: .v4(destination))
    var bytes = packet.withBytes { $0.copyToArray() }
    if corruptChecksum { bytes[17] ^= 0x01 }
    deliver(tcpBytes: bytes, from: source, to: destination, flush: flush)
  }

  /// Feeds raw TCP bytes (header and payload) from the peer, as the IPv4 layer would.
  mutating func deliver(
    tcpBytes: [UInt8], from source: IPv4Address = Harness.remoteAddress,
    to destination: IPv4Address = Harness.localAddress, checksumVerified: Bool = false,
    flush: Bool = true
  ) {
    let ipHeader = IPv4Header(
      source: source, destination: destination, protocolNumber: .tcp,
      payloadLength: tcpBytes.count, dontFragment: true)
    var packet = [UInt8](repeating: 0, count: IPv4Header.length)
    var span = packet.mutableSpan
    ipHeader.emit(into: &span)
    packet += tcpBytes
    let delivery = IPv4Delivery(
      header: ipHeader, headerLength: IPv4Header.length, linkBroadcast: false)
    tcp.input(
      TransportDelivery(delivery, checksumVerified: checksumVerified),
      segment: packet.span.extracting(droppingFirst: IPv4Header.length), now: now,
      network: &network)
    if flush { self.flush() }
  }

  /// Sends what the layer made due, as a runtime does after each batch of received frames.
  mutating func flush() {
    tcp.flush(now: now, network: &network)
  }

  // MARK: What the stack sent

  /// Takes what the layer sent since the last call, checking the parts every segment must
  /// get right: it parses, its checksum verifies, it has DF set (RFC 1191) and it goes from
  /// our address and port to the peer's.
  mutating func takeSent(sourceLocation: SourceLocation = #_sourceLocation) -> [Segment] {
    let sent = network.sent
    network.sent.removeAll()
    for item in sent {
      #expect(item.parseError == nil, "unparseable segment", sourceLocation: sourceLocation)
      #expect(item.checksumValid, "bad checksum on \(item.segment)", sourceLocation: sourceLocation)
      #expect(item.dontFragment, sourceLocation: sourceLocation)
      #expect(item.source == .v4(Harness.localAddress), sourceLocation: sourceLocation)
      #expect(item.destination == .v4(Harness.remoteAddress), sourceLocation: sourceLocation)
      #expect(item.sourcePort == localPort, sourceLocation: sourceLocation)
      #expect(item.destinationPort == remotePort, sourceLocation: sourceLocation)
      if let timestamp = item.segment.options.timestamp { lastOurTimestamp = timestamp.value }
    }
    return sent.map(\.segment)
  }

  /// Asserts that exactly these segments were sent since the last check.
  mutating func expectSent(
    _ expected: Segment..., sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let sent = takeSent(sourceLocation: sourceLocation)
    #expect(sent == expected, sourceLocation: sourceLocation)
  }

  /// Asserts that nothing was sent since the last check.
  mutating func expectNothingSent(sourceLocation: SourceLocation = #_sourceLocation) {
    let sent = takeSent(sourceLocation: sourceLocation)
    #expect(sent == [], sourceLocation: sourceLocation)
  }

  // MARK: Time

  /// Moves the clock and runs the layer's timers.
  mutating func advance(by interval: Interval) {
    now += interval
    tcp.poll(now: now, network: &network)
  }

  /// Moves the clock to the next deadline of the connection under test (else the layer's,
  /// which may be a stale entry of its lazy deadline queue) and runs the timers; returns how
  /// far the clock moved.
  @discardableResult
  mutating func advanceToNextDeadline() -> Interval? {
    guard let deadline = connection?.nextDeadline ?? tcp.nextDeadline else { return nil }
    let moved = deadline - now
    if deadline > now { now = deadline }
    tcp.poll(now: now, network: &network)
    return moved
  }

  // MARK: Application calls

  /// Writes `bytes` and flushes; returns how many the send buffer took.
  @discardableResult
  mutating func write(_ bytes: [UInt8]) -> Int {
    guard let id else { return 0 }
    let written = (try? tcp.write(id, bytes.span)) ?? 0
    tcp.flush(now: now, network: &network)
    return written
  }

  /// Reads up to `maximum` bytes (and flushes any window update).
  mutating func read(_ maximum: Int = 1 << 20) -> [UInt8] {
    guard let id else { return [] }
    var buffer = [UInt8](repeating: 0, count: maximum)
    let count = buffer.withUnsafeMutableBytes { (try? tcp.read(id, into: $0, now: now)) ?? 0 }
    tcp.flush(now: now, network: &network)
    return Array(buffer.prefix(count))
  }

  mutating func shutdownWrite() {
    guard let id else { return }
    try? tcp.shutdownWrite(id)
    tcp.flush(now: now, network: &network)
  }

  mutating func close() {
    guard let id else { return }
    tcp.close(id)
    tcp.flush(now: now, network: &network)
  }

  mutating func abort() {
    guard let id else { return }
    tcp.abort(id)
    tcp.flush(now: now, network: &network)
  }

  // MARK: Bringing a connection to a state

  /// The options our SYN-ACK carries in answer to ``peerSynOptions``.
  func expectedSynAckOptions() -> TCPOptions {
    var options = TCPOptions.with(mss: Harness.ourMSS)
    if scalingInUse { options.windowScale = ourWindowShift }
    options.sackPermitted = sackInUse
    if timestampsInUse, let peer = peerSynOptions.timestamp {
      options.timestamp = TCPTimestampOption(value: ourClock, echoReply: peer.value)
    }
    return options
  }

  /// The window field of our segments with an empty receive buffer, once scaling is settled.
  func emptyBufferWindow() -> UInt16 {
    let shift = scalingInUse ? Int(ourWindowShift) : 0
    return UInt16(min(configuration.receiveBufferSize >> shift, 65535))
  }

  /// LISTEN → SYN-RECEIVED: the peer's SYN, answered by exactly our SYN-ACK.
  mutating func receiveSyn(sourceLocation: SourceLocation = #_sourceLocation) {
    deliver(Segment(.syn, seq: irs, window: peerWindow, options: peerSynOptions))
    let sent = takeSent(sourceLocation: sourceLocation)
    iss = sent.first?.sequence ?? SequenceNumber(0)
    #expect(
      iss == tcp.sequenceNumbers.isn(for: tuple, now: now), "ISS from the RFC 6528 generator",
      sourceLocation: sourceLocation)
    let synWindow = UInt16(min(configuration.receiveBufferSize, 65535))
    #expect(
      sent == [
        Segment(
          [.syn, .ack], seq: iss, ack: irs + 1, window: synWindow, options: expectedSynAckOptions())
      ], sourceLocation: sourceLocation)
    #expect(state == .synReceived, sourceLocation: sourceLocation)
    ourNext = iss + 1
    peerNext = irs + 1
    ourWindow = emptyBufferWindow()
  }

  /// LISTEN → SYN-RECEIVED → ESTABLISHED (passive open), and the application accepts it.
  /// The ACK arrives `roundTrip` after the SYN-ACK (the first RTT sample, RFC 6298 §2.2).
  mutating func establishPassive(
    roundTrip: Interval = .zero, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    receiveSyn(sourceLocation: sourceLocation)
    now += roundTrip
    deliver(
      Segment(.ack, seq: peerNext, ack: ourNext, window: peerWindow, options: peerOptions()))
    expectNothingSent(sourceLocation: sourceLocation)
    #expect(state == .established, sourceLocation: sourceLocation)
    if let listener { id = tcp.accept(listener) }
    #expect(id != nil, "accepted", sourceLocation: sourceLocation)
  }

  /// CLOSED → SYN-SENT (active open to the peer's port 80), with exactly our SYN.
  mutating func connect(sourceLocation: SourceLocation = #_sourceLocation) {
    remotePort = Harness.serverPort
    do {
      id = try tcp.connect(
        to: .v4(Harness.remoteAddress), port: Harness.serverPort, now: now, network: &network)
    } catch {
      Issue.record("connect failed: \(error)", sourceLocation: sourceLocation)
      return
    }
    guard let connection else { return }
    localPort = connection.tuple.localPort
    #expect(
      configuration.ephemeralPorts.contains(localPort), sourceLocation: sourceLocation)
    iss = connection.sender.initialSequence
    #expect(
      iss == tcp.sequenceNumbers.isn(for: tuple, now: now), sourceLocation: sourceLocation)
    var options = TCPOptions.with(mss: Harness.ourMSS)
    if configuration.windowScaling { options.windowScale = ourWindowShift }
    options.sackPermitted = configuration.selectiveAcknowledgments
    if configuration.timestamps {
      options.timestamp = TCPTimestampOption(value: ourClock, echoReply: 0)
    }
    let synWindow = UInt16(min(configuration.receiveBufferSize, 65535))
    expectSent(
      Segment(.syn, seq: iss, window: synWindow, options: options), sourceLocation: sourceLocation)
    #expect(state == .synSent, sourceLocation: sourceLocation)
    ourNext = iss + 1
  }

  /// The peer's SYN-ACK to our SYN: what it offered in ``peerSynOptions``, its timestamp
  /// echoing ours.
  func peerSynAck() -> Segment {
    var options = peerSynOptions
    if options.timestamp != nil {
      options.timestamp = TCPTimestampOption(value: peerClock, echoReply: lastOurTimestamp)
    }
    return Segment([.syn, .ack], seq: irs, ack: iss + 1, window: peerWindow, options: options)
  }

  /// CLOSED → SYN-SENT → ESTABLISHED (active open): the peer's SYN-ACK, `roundTrip` after
  /// our SYN, and our exact ACK.
  mutating func establishActive(
    roundTrip: Interval = .zero, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    connect(sourceLocation: sourceLocation)
    now += roundTrip
    deliver(peerSynAck())
    peerNext = irs + 1
    ourWindow = emptyBufferWindow()
    expectSent(
      Segment(.ack, seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    #expect(state == .established, sourceLocation: sourceLocation)
  }

  /// ESTABLISHED → FIN-WAIT-1: the application shuts down writing; our FIN goes out.
  mutating func enterFinWait1(sourceLocation: SourceLocation = #_sourceLocation) {
    shutdownWrite()
    expectSent(
      Segment(
        [.fin, .ack], seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    ourNext += 1
    #expect(state == .finWait1, sourceLocation: sourceLocation)
  }

  /// FIN-WAIT-1 → FIN-WAIT-2: the peer acknowledges our FIN; nothing is sent.
  mutating func enterFinWait2(sourceLocation: SourceLocation = #_sourceLocation) {
    enterFinWait1(sourceLocation: sourceLocation)
    deliver(
      Segment(.ack, seq: peerNext, ack: ourNext, window: peerWindow, options: peerOptions()))
    expectNothingSent(sourceLocation: sourceLocation)
    #expect(state == .finWait2, sourceLocation: sourceLocation)
  }

  /// FIN-WAIT-2 → TIME-WAIT: the peer's FIN, acknowledged at once.
  mutating func enterTimeWait(sourceLocation: SourceLocation = #_sourceLocation) {
    enterFinWait2(sourceLocation: sourceLocation)
    deliver(
      Segment(
        [.fin, .ack], seq: peerNext, ack: ourNext, window: peerWindow, options: peerOptions()))
    peerNext += 1
    expectSent(
      Segment(.ack, seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    #expect(state == .timeWait, sourceLocation: sourceLocation)
  }

  /// FIN-WAIT-1 → CLOSING: the peer's FIN crosses ours (it does not acknowledge our FIN).
  mutating func enterClosing(sourceLocation: SourceLocation = #_sourceLocation) {
    enterFinWait1(sourceLocation: sourceLocation)
    deliver(
      Segment(
        [.fin, .ack], seq: peerNext, ack: ourNext - 1, window: peerWindow,
        options: peerOptions()))
    peerNext += 1
    expectSent(
      Segment(.ack, seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    #expect(state == .closing, sourceLocation: sourceLocation)
  }

  /// ESTABLISHED → CLOSE-WAIT: the peer's FIN, acknowledged at once.
  mutating func enterCloseWait(sourceLocation: SourceLocation = #_sourceLocation) {
    deliver(
      Segment(
        [.fin, .ack], seq: peerNext, ack: ourNext, window: peerWindow, options: peerOptions()))
    peerNext += 1
    expectSent(
      Segment(.ack, seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    #expect(state == .closeWait, sourceLocation: sourceLocation)
  }

  /// CLOSE-WAIT → LAST-ACK: the application shuts down writing; our FIN goes out.
  mutating func enterLastAck(sourceLocation: SourceLocation = #_sourceLocation) {
    enterCloseWait(sourceLocation: sourceLocation)
    shutdownWrite()
    expectSent(
      Segment(
        [.fin, .ack], seq: ourNext, ack: peerNext, window: ourWindow, options: ourOptions()),
      sourceLocation: sourceLocation)
    ourNext += 1
    #expect(state == .lastAck, sourceLocation: sourceLocation)
  }

  /// A bare ACK from the peer at its current sequence numbers.
  func peerAck(_ acknowledgment: SequenceNumber? = nil, window: UInt16? = nil) -> Segment {
    Segment(
      .ack, seq: peerNext, ack: acknowledgment ?? ourNext, window: window ?? peerWindow,
      options: peerOptions())
  }

  /// A bare ACK from us at our current sequence numbers.
  func ourAck(window: UInt16? = nil, sack: [SACKBlock] = []) -> Segment {
    Segment(
      .ack, seq: ourNext, ack: peerNext, window: window ?? ourWindow,
      options: ourOptions(sack: sack))
  }
}
