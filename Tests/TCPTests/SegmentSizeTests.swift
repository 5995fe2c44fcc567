import NetCore
import Testing

@testable import TCP

/// How much data a segment carries: the peer's MSS less the options the segment has
/// (RFC 6691 §2: "the sender MUST reduce the TCP data length to account for any IP or TCP
/// options that it is including"), so that no segment exceeds the MTU.
struct SegmentSizeTests {
  static func established(mss: UInt16 = 1460, sack: Bool, timestamps: Bool) -> Harness {
    var configuration = TCPConfiguration()
    configuration.nagle = false
    var h = Harness.listening(configuration: configuration)
    h.peerSynOptions = .with(
      mss: mss, sackPermitted: sack, timestamp: timestamps ? (7000, 0) : nil)
    h.establishPassive()
    return h
  }

  /// Leaves `count` out-of-order ranges in our receive buffer (so our segments carry SACK
  /// blocks).
  func makeGaps(_ h: inout Harness, _ count: Int) {
    for index in 0..<count {
      h.deliver(
        Segment(
          .ack, seq: h.peerNext + 100 + 200 * index, ack: h.ourNext, options: h.peerOptions(),
          payload: pattern(100)))
    }
    _ = h.takeSent()
  }

  /// Writes three segments' worth and returns the sizes sent, checking that data and options
  /// together never exceed the peer's MSS.
  func sendSizes(_ h: inout Harness, expecting size: Int, mss: Int = 1460) -> [Int] {
    #expect(h.write(pattern(3 * size)) == 3 * size)
    let sent = h.takeSent()
    for segment in sent {
      #expect(segment.payload.count + segment.options.encodedLength <= mss)
    }
    return sent.map(\.payload.count)
  }

  @Test func withoutOptionsASegmentCarriesTheWholeMSS() {
    var h = Self.established(sack: false, timestamps: false)
    #expect(sendSizes(&h, expecting: 1460) == [1460, 1460, 1460])
  }

  @Test func timestampsTakeTwelveBytes() {
    var h = Self.established(sack: true, timestamps: true)
    #expect(sendSizes(&h, expecting: 1448) == [1448, 1448, 1448])
  }

  @Test(arguments: [(1, 1436), (2, 1428), (3, 1420), (5, 1420)])
  func sackBlocksBesideTimestampsTakeTheirShare(gaps: Int, size: Int) {
    // 4 + 8 × blocks more, at most three blocks beside timestamps.
    var h = Self.established(sack: true, timestamps: true)
    makeGaps(&h, gaps)
    #expect(sendSizes(&h, expecting: size) == [size, size, size])
  }

  @Test(arguments: [(1, 1448), (4, 1424), (6, 1424)])
  func sackBlocksWithoutTimestampsTakeTheirShare(gaps: Int, size: Int) {
    var h = Self.established(sack: true, timestamps: false)
    makeGaps(&h, gaps)
    #expect(sendSizes(&h, expecting: size) == [size, size, size])
  }

  @Test func smallerPeerMSSLessTimestamps() {
    var h = Self.established(mss: 1000, sack: false, timestamps: true)
    #expect(sendSizes(&h, expecting: 988, mss: 1000) == [988, 988, 988])
  }

  @Test func congestionWindowCountsInEffectiveSegments() {
    // RFC 6928's initial window of ten segments, each the MSS less the timestamps.
    let h = Self.established(sack: true, timestamps: true)
    #expect(h.connection?.effectiveSendSegmentSize == 1448)
    // RFC 5681 §3.1: IW is the window "after the three-way handshake is completed"; the ACK
    // of our SYN acknowledges no data and should not grow it.
    #expect(h.connection?.congestion.congestionWindow == 14480)
  }
}
