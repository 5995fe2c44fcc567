import Testing

@testable import TCP

/// The send buffer: a ring of unacknowledged bytes, read by offset from SND.UNA, grown on
/// demand up to its limit, emptied from the front by acknowledgments.
struct TCPSendBufferTests {
  func contents(_ buffer: TCPSendBuffer, offset: Int = 0, length: Int? = nil) -> [UInt8] {
    let length = length ?? buffer.count - offset
    var bytes = [UInt8](repeating: 0xEE, count: length + 2)
    var span = bytes.mutableSpan
    buffer.copy(offset: offset, length: length, into: &span, at: 1)
    #expect(bytes.first == 0xEE && bytes.last == 0xEE)  // nothing written outside
    return Array(bytes[1..<(1 + length)])
  }

  @Test func appendTakesWhatFitsTheLimit() {
    var buffer = TCPSendBuffer(limit: 1000)
    #expect(buffer.isEmpty)
    #expect(buffer.append(pattern(600).span) == 600)
    #expect(buffer.freeSpace == 400)
    #expect(buffer.append(pattern(600, from: 600).span) == 400)
    #expect(buffer.count == 1000)
    #expect(buffer.append(pattern(1).span) == 0)
    #expect(contents(buffer) == pattern(1000))
  }

  @Test func copyReadsAnyRangeByOffset() {
    var buffer = TCPSendBuffer(limit: 10000)
    _ = buffer.append(pattern(5000).span)
    #expect(contents(buffer, offset: 1460, length: 1460) == pattern(1460, from: 1460))
    #expect(contents(buffer, offset: 4999, length: 1) == pattern(1, from: 4999))
    #expect(contents(buffer, offset: 0, length: 0) == [])
  }

  @Test func acknowledgedBytesLeaveTheFrontAndTheRingWraps() {
    var buffer = TCPSendBuffer(limit: 4096)
    _ = buffer.append(pattern(3000).span)
    #expect(buffer.capacity == 4096)
    buffer.removeFirst(2500)
    #expect(contents(buffer) == pattern(500, from: 2500))
    // 3000 more: the tail wraps past the end of the 4 KiB ring.
    #expect(buffer.append(pattern(3000, from: 3000).span) == 3000)
    #expect(buffer.capacity == 4096)
    #expect(contents(buffer) == pattern(3500, from: 2500))
    #expect(contents(buffer, offset: 1000, length: 1000) == pattern(1000, from: 3500))
  }

  @Test func growingKeepsAWrappedRingInOrder() {
    var buffer = TCPSendBuffer(limit: 1 << 20)
    _ = buffer.append(pattern(4000).span)
    buffer.removeFirst(3900)
    _ = buffer.append(pattern(3000, from: 4000).span)  // wraps
    _ = buffer.append(pattern(10000, from: 7000).span)  // grows
    #expect(buffer.capacity == 16384)
    #expect(contents(buffer) == pattern(13100, from: 3900))
  }

  @Test func emptyBufferReleasesASmallRingButKeepsALargeOne() {
    var small = TCPSendBuffer(limit: 1 << 20)
    _ = small.append(pattern(1000).span)
    small.removeFirst(1000)
    #expect(small.capacity == 0)
    var large = TCPSendBuffer(limit: 1 << 20)
    _ = large.append(pattern(20000).span)
    large.removeFirst(20000)
    #expect(large.capacity == 32768)
    _ = large.append(pattern(10).span)
    #expect(contents(large) == pattern(10))
  }

  @Test func limitCanShrinkBelowWhatIsHeld() {
    var buffer = TCPSendBuffer(limit: 1000)
    _ = buffer.append(pattern(800).span)
    buffer.limit = 500
    #expect(buffer.freeSpace == -300)
    #expect(buffer.append(pattern(1).span) == 0)
    buffer.removeFirst(800)
    #expect(buffer.append(pattern(600).span) == 500)
  }
}
