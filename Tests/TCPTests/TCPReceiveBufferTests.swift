import Testing

@testable import TCP

/// The receive buffer: readable bytes and out-of-order ranges in one ring, bounded by the
/// window and by the number of ranges (RFC 9293 §3.10.7.4 "seventh").
struct TCPReceiveBufferTests {
  func read(_ buffer: inout TCPReceiveBuffer, _ maximum: Int = 1 << 20) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: maximum)
    let count = bytes.withUnsafeMutableBytes { buffer.read(into: $0) }
    return Array(bytes.prefix(count))
  }

  @Test func inOrderDataIsReadable() {
    var buffer = TCPReceiveBuffer(limit: 10000)
    #expect(buffer.write(pattern(100).span, at: 0) == 100)
    #expect(buffer.count == 100)
    #expect(buffer.window == 9900)
    #expect(read(&buffer, 60) == pattern(60))
    #expect(read(&buffer) == pattern(40, from: 60))
    #expect(buffer.window == 10000)
    #expect(read(&buffer) == [])
  }

  @Test func outOfOrderDataWaitsForTheGap() {
    var buffer = TCPReceiveBuffer(limit: 10000)
    #expect(buffer.write(pattern(100, from: 200).span, at: 200) == 0)
    #expect(buffer.write(pattern(100, from: 400).span, at: 400) == 0)
    #expect(buffer.outOfOrder == [200..<300, 400..<500])
    #expect(buffer.outOfOrderBytes == 200)
    #expect(buffer.count == 0)
    // Filling [0, 200) makes [0, 300) readable at once.
    #expect(buffer.write(pattern(200).span, at: 0) == 300)
    #expect(buffer.outOfOrder == [100..<200])  // now relative to the new RCV.NXT
    #expect(buffer.write(pattern(100, from: 300).span, at: 0) == 200)
    #expect(buffer.outOfOrder == [])
    #expect(read(&buffer) == pattern(500))
  }

  @Test func rangesMergeWhenTheyOverlapOrTouch() {
    var buffer = TCPReceiveBuffer(limit: 10000)
    _ = buffer.write(pattern(100, from: 100).span, at: 100)
    _ = buffer.write(pattern(100, from: 300).span, at: 300)
    _ = buffer.write(pattern(100, from: 200).span, at: 200)  // touches both
    #expect(buffer.outOfOrder == [100..<400])
    _ = buffer.write(pattern(200, from: 350).span, at: 350)  // overlaps the end
    #expect(buffer.outOfOrder == [100..<550])
    _ = buffer.write(pattern(50, from: 120).span, at: 120)  // inside
    #expect(buffer.outOfOrder == [100..<550])
    #expect(buffer.holds(150..<300))
    #expect(!buffer.holds(50..<150))
    #expect(buffer.write(pattern(100).span, at: 0) == 550)
    #expect(read(&buffer) == pattern(550))
  }

  @Test func rangeLimitDropsANewDisjointRange() {
    var buffer = TCPReceiveBuffer(limit: 1 << 20)
    for index in 0..<TCPReceiveBuffer.maximumRanges {
      #expect(buffer.write(pattern(10).span, at: 100 + 100 * index) == 0)
    }
    #expect(buffer.outOfOrder.count == 32)
    // A 33rd disjoint range would need another record: dropped.
    #expect(buffer.write(pattern(10).span, at: 50) == nil)
    // One that touches an existing range adds no record.
    #expect(buffer.write(pattern(10).span, at: 110) == 0)
    #expect(buffer.outOfOrder.first == 100..<120)
    // In-order data is always taken.
    #expect(buffer.write(pattern(10).span, at: 0) == 10)
  }

  @Test func dataBeyondTheWindowIsClipped() {
    var buffer = TCPReceiveBuffer(limit: 1000)
    #expect(buffer.write(pattern(1500).span, at: 0) == 1000)
    #expect(buffer.window == 0)
    #expect(buffer.write(pattern(10).span, at: 0) == 0)
    #expect(read(&buffer, 300) == pattern(300))
    #expect(buffer.window == 300)
    // Out of order, clipped to the window too.
    #expect(buffer.write(pattern(500).span, at: 100) == 0)
    #expect(buffer.outOfOrder == [100..<300])
    #expect(buffer.write(pattern(10).span, at: 300) == 0)  // wholly beyond
    #expect(buffer.outOfOrder == [100..<300])
  }

  @Test func ringWrapsAround() {
    var buffer = TCPReceiveBuffer(limit: 4096)
    _ = buffer.write(pattern(3000).span, at: 0)
    #expect(buffer.capacity == 4096)
    #expect(read(&buffer, 2500) == pattern(2500))
    // 3000 more bytes wrap past the end of the ring.
    #expect(buffer.write(pattern(3000, from: 3000).span, at: 0) == 3000)
    #expect(buffer.capacity == 4096)
    #expect(read(&buffer) == pattern(3500, from: 2500))
  }

  @Test func growingKeepsOutOfOrderData() {
    // Stream offsets: [0, 4000) arrives, 3000 are read; RCV.NXT is at 4000.
    var buffer = TCPReceiveBuffer(limit: 1 << 20)
    _ = buffer.write(pattern(4000).span, at: 0)
    #expect(read(&buffer, 3000) == pattern(3000))
    _ = buffer.write(pattern(2000, from: 6000).span, at: 2000)  // out of order, wraps
    _ = buffer.write(pattern(20000, from: 13000).span, at: 9000)  // grows the ring
    #expect(buffer.capacity == 32768)
    #expect(buffer.outOfOrder == [2000..<4000, 9000..<29000])
    #expect(buffer.write(pattern(2000, from: 4000).span, at: 0) == 4000)
    #expect(buffer.write(pattern(5000, from: 8000).span, at: 0) == 25000)
    let readable = read(&buffer)
    #expect(readable.count == 30000)
    #expect(firstDifference(readable, pattern(30000, from: 3000)) == nil)
  }

  func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
  }

  @Test func discardDropsReadableBytes() {
    var buffer = TCPReceiveBuffer(limit: 10000)
    _ = buffer.write(pattern(100).span, at: 0)
    #expect(buffer.discard(30) == 30)
    #expect(read(&buffer) == pattern(70, from: 30))
    #expect(buffer.discard(10) == 0)
    #expect(buffer.capacity == 0)  // an idle buffer holds no memory
  }

  @Test func blocksAreSequenceNumbersAfterReceiveNext() {
    var buffer = TCPReceiveBuffer(limit: 10000)
    _ = buffer.write(pattern(100).span, at: 100)
    _ = buffer.write(pattern(100).span, at: 300)
    let next = SequenceNumber(0xFFFF_FFC0)
    #expect(
      buffer.outOfOrderBlocks(after: next) == [
        SACKBlock(left: next + 100, right: next + 200),
        SACKBlock(left: next + 300, right: next + 400),
      ])
  }
}
