import IPv4
import NetCore
import NetStack
import Netfront
import NetfrontSimulation
import TCP
import Testing

/// Two direct stacks, one in a guest over netfront and the simulated netback, the other in
/// "dom0" behind the vif: ARP, ping and TCP transfers go through the shared rings and the
/// granted pages, and arrive byte-exact, also when the back end is awkward.
struct EndToEndTests {
  static let guestAddress = IPv4Address(10, 0, 0, 2)
  static let hostAddress = IPv4Address(10, 0, 0, 1)

  static func testbed(
    configuration: NetfrontConfiguration = .init(), mtu: Int? = nil, seed: UInt64 = 1
  ) throws -> NetfrontTestbed {
    try NetfrontTestbed(
      guestAddress: IPv4CIDR(address: guestAddress, prefixLength: 24),
      hostAddress: IPv4CIDR(address: hostAddress, prefixLength: 24), configuration: configuration,
      mtu: mtu, seed: seed)
  }

  @Test func arpAndPingCrossTheRingsBothWays() throws {
    let bed = try Self.testbed()
    let payload = [UInt8](repeating: 0x5A, count: 56)
    // dom0 pings the guest, as the real test does.
    for sequence in 0..<10 {
      try bed.host.ipv4.sendEchoRequest(
        to: Self.guestAddress, identifier: 7, sequence: UInt16(sequence), payload: payload.span,
        now: bed.now)
      try bed.run(until: bed.now + .milliseconds(100))
    }
    var replies: [ICMPv4EchoReply] = []
    while let reply = bed.host.ipv4.echoReplies.popFirst() { replies.append(reply) }
    #expect(replies.map(\.sequence) == (0..<10).map { UInt16($0) })
    #expect(replies.allSatisfy { $0.source == Self.guestAddress && $0.payloadLength == 56 })
    // Each side learnt the other's MAC through ARP over the rings; the guest's is the vif's.
    #expect(
      bed.host.ipv4.link.cache.entry(for: Self.guestAddress)?.state.hardwareAddress
        == NetfrontTestbed.guestMAC)
    #expect(
      bed.guest.ipv4.link.cache.entry(for: Self.hostAddress)?.state.hardwareAddress
        == NetfrontTestbed.hostMAC)
    // And the guest pings dom0, with a payload that needs fragments.
    let large = [UInt8](repeating: 0xA5, count: 4000)
    for sequence in 0..<5 {
      try bed.guest.ipv4.sendEchoRequest(
        to: Self.hostAddress, identifier: 9, sequence: UInt16(sequence), payload: large.span,
        now: bed.now)
      try bed.run(until: bed.now + .milliseconds(100))
    }
    var guestReplies = 0
    while let reply = bed.guest.ipv4.echoReplies.popFirst() {
      #expect(reply.payloadLength == 4000)
      guestReplies += 1
    }
    #expect(guestReplies == 5)
    let counters = bed.device.counters
    #expect(counters.framesReceived > 20 && counters.framesSent > 20)
    #expect(counters.receiveErrors == 0 && counters.receiveMalformed == 0)
    #expect(counters.transmitErrors == 0 && counters.transmitTooLarge == 0)
  }

  /// The awkward back ends a transfer must survive.
  enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case plain, smallSlots, bursts, pieces, reversedResponses, extraInfo, wrappingIndices
    case jumboFrames, smallRings, stallingTransmit

    var testDescription: String { rawValue }
  }

  @Test(arguments: Backend.allCases)
  func tcpTransfersAreByteExact(backend: Backend) throws {
    var configuration = NetfrontConfiguration()
    var mtu: Int? = nil
    switch backend {
    case .wrappingIndices: configuration.ringStartIndex = 0xFFFF_FF00
    case .smallRings:
      configuration.receiveBuffers = 8
      configuration.transmitBuffers = 8
    case .jumboFrames: mtu = 9000
    default: break
    }
    let bed = try Self.testbed(configuration: configuration, mtu: mtu, seed: 3)
    switch backend {
    case .smallSlots: bed.netback.receiveSlotSize = 512
    case .bursts: bed.netback.responseBurst = 8
    case .pieces: bed.netback.maximumResponsesPerPush = 3
    case .reversedResponses: bed.netback.reverseTransmitResponses = true
    case .extraInfo: bed.netback.receiveExtraInfo = true
    default: break
    }
    let bytes = backend == .plain ? 1 << 20 : 256 << 10
    var stalls = 0
    var turns = 0
    let result = try Self.transfer(on: bed, toGuest: bytes, fromGuest: bytes) { bed in
      if backend == .stallingTransmit {
        // The back end stops reading the TX ring for 4 turns in every 10.
        turns += 1
        let stall = turns % 10 < 4
        if stall != bed.netback.stallTransmit {
          bed.netback.stallTransmit = stall
          if stall { stalls += 1 }
        }
      }
    }
    #expect(result.failure == nil, "\(backend): \(result.failure ?? "")")
    #expect(result.guestReceived == bytes && result.hostReceived == bytes)
    let counters = bed.device.counters
    #expect(counters.receiveMalformed == 0 && counters.transmitMalformed == 0)
    #expect(counters.receiveErrors == 0 && counters.transmitErrors == 0)
    switch backend {
    case .smallSlots: #expect(counters.multiSlotFramesReceived > 100)
    case .jumboFrames:
      #expect(counters.multiSlotFramesReceived > 10 && counters.multiSlotFramesSent > 10)
    case .extraInfo: #expect(counters.receiveExtraInfo == counters.framesReceived)
    case .smallRings: #expect(counters.transmitRingFull > 0)
    case .stallingTransmit: #expect(stalls > 1)
    default: break
    }
  }

  struct TransferResult {
    var guestReceived = 0
    var hostReceived = 0
    var failure: String?
  }

  /// The byte at `position` of the stream sent by side `side`.
  static func byte(at position: Int, side: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: position &* 31 ^ position >> 8 &+ side &* 101)
  }

  /// One end of a transfer: writes its bytes, half-closes, reads the other side's to the end.
  struct Side {
    var id: TCPConnectionID
    let sendSide: Int
    let toSend: Int
    var sent = 0
    var received = 0
    var shutDown = false
    var done = false

    mutating func pump(
      _ stack: inout DirectStack, now: Instant, scratch: inout [UInt8], failure: inout String?
    ) {
      guard !done, let state = stack.tcp.state(id) else { return }
      if let error = stack.tcp.error(id) {
        failure = failure ?? "connection failed: \(error)"
        return
      }
      while sent < toSend && state.isSynchronized {
        let length = min(16384, toSend - sent)
        let chunk = (0..<length).map { EndToEndTests.byte(at: sent + $0, side: sendSide) }
        guard let written = try? stack.tcp.write(id, chunk.span), written > 0 else { break }
        sent += written
      }
      if sent == toSend && !shutDown && state.isSynchronized {
        try? stack.tcp.shutdownWrite(id)
        shutDown = true
      }
      while true {
        let count = scratch.withUnsafeMutableBytes {
          (try? stack.tcp.read(id, into: $0, now: now)) ?? 0
        }
        if count == 0 { break }
        for index in 0..<count
        where scratch[index] != EndToEndTests.byte(at: received + index, side: 1 - sendSide) {
          failure = failure ?? "byte \(received + index) differs"
          return
        }
        received += count
      }
      if stack.tcp.isAtEndOfStream(id) && shutDown { done = true }
    }
  }

  /// dom0 connects to a listener in the guest (as wget does); both send, both read to the end.
  static func transfer(
    on bed: NetfrontTestbed, toGuest: Int, fromGuest: Int,
    _ each: (NetfrontTestbed) -> Void = { _ in }
  ) throws -> TransferResult {
    let listener = try bed.guest.tcp.listen(port: 80)
    var host = Side(
      id: try bed.host.connectTCP(to: .v4(guestAddress), port: 80, now: bed.now), sendSide: 0,
      toSend: toGuest)
    var guest: Side? = nil
    var result = TransferResult()
    var scratch = [UInt8](repeating: 0, count: 65536)
    try bed.run(until: bed.now + .seconds(120)) { bed in
      each(bed)
      if guest == nil, let id = bed.guest.tcp.accept(listener) {
        guest = Side(id: id, sendSide: 1, toSend: fromGuest)
      }
      host.pump(&bed.host, now: bed.now, scratch: &scratch, failure: &result.failure)
      guest?.pump(&bed.guest, now: bed.now, scratch: &scratch, failure: &result.failure)
      return result.failure == nil && !(host.done && guest?.done == true)
    }
    result.guestReceived = guest?.received ?? 0
    result.hostReceived = host.received
    if result.failure == nil && !(host.done && guest?.done == true) {
      result.failure =
        "did not finish: dom0 received \(host.received)/\(fromGuest), guest \(guest?.received ?? 0)/\(toGuest)"
    }
    return result
  }
}
