import Testing
import UnixSocketFraming

/// QEMU's `-netdev stream` framing: a 32-bit big-endian length, then the frame.
struct StreamFrameDecoderTests {
  /// `frames` with their length prefixes, as QEMU writes them.
  private func stream(_ frames: [[UInt8]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for frame in frames {
      let length = UInt32(frame.count)
      bytes += [
        UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF),
        UInt8(length & 0xFF),
      ]
      bytes += frame
    }
    return bytes
  }

  /// Feeds `bytes` in pieces of `piece` bytes (each at most the space offered); returns the
  /// frames handed out and the error, if any.
  private func decode(
    _ bytes: [UInt8], piece: Int, into decoder: inout StreamFrameDecoder
  ) -> (frames: [[UInt8]], error: StreamFramingError?) {
    var frames: [[UInt8]] = []
    var offset = 0
    while true {
      do {
        while try decoder.nextFrame({ frames.append(Array(copying: $0)) }) {}
      } catch {
        return (frames, error)
      }
      guard offset < bytes.count else { return (frames, nil) }
      let space = decoder.reserveSpace()
      #expect(space.count > 0)
      let count = min(piece, space.count, bytes.count - offset)
      space.copyBytes(from: bytes[offset..<(offset + count)])
      decoder.commit(count)
      offset += count
    }
  }

  @Test(arguments: [1, 3, 4, 5, 64, 100_000])
  func framesComeOutWholeHoweverTheBytesArrive(piece: Int) {
    let frames: [[UInt8]] = [
      Array(0..<60), [0xAB], Array(repeating: 0x5A, count: 1514), Array(repeating: 7, count: 100),
    ]
    var decoder = StreamFrameDecoder(maximumFrameLength: 1514)
    let result = decode(stream(frames), piece: piece, into: &decoder)
    #expect(result.error == nil)
    #expect(result.frames == frames)
    #expect(decoder.bufferedCount == 0)
  }

  /// With the smallest buffer (one largest frame and its prefix), the partial frame moves to
  /// the front whenever a largest frame would not fit behind it.
  @Test(arguments: [1, 7, 13, 200])
  func theSmallestBufferStillTakesEveryFrame(piece: Int) {
    let frames: [[UInt8]] = (1...40).map { size in
      (0..<(size * 5 % 101 + 1)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
    }
    var decoder = StreamFrameDecoder(maximumFrameLength: 101, capacity: 1)
    #expect(decoder.capacity == 105)
    let result = decode(stream(frames), piece: piece, into: &decoder)
    #expect(result.error == nil)
    #expect(result.frames == frames)
  }

  @Test func aLengthOfZeroIsAnError() {
    var decoder = StreamFrameDecoder(maximumFrameLength: 1514)
    let bytes = stream([[1, 2, 3]]) + [0, 0, 0, 0] + stream([[4, 5]])
    let result = decode(bytes, piece: 1000, into: &decoder)
    #expect(result.frames == [[1, 2, 3]])
    #expect(result.error == .badLength(0))
  }

  @Test func aLengthAboveTheMaximumIsAnError() {
    var decoder = StreamFrameDecoder(maximumFrameLength: 1514)
    #expect(decode([0, 0, 0x05, 0xEB], piece: 4, into: &decoder).error == .badLength(1515))
    var other = StreamFrameDecoder(maximumFrameLength: 1514)
    #expect(
      decode([0xFF, 0xFF, 0xFF, 0xFF], piece: 4, into: &other).error == .badLength(0xFFFF_FFFF))
    // It is known from the prefix alone: no need to wait for the frame.
    var early = StreamFrameDecoder(maximumFrameLength: 1514)
    #expect(decode([0x7F, 0, 0, 0], piece: 4, into: &early).error == .badLength(0x7F00_0000))
  }

  @Test func theMaximumItselfIsAFrame() {
    var decoder = StreamFrameDecoder(maximumFrameLength: 1514)
    let frame = [UInt8](repeating: 0xEE, count: 1514)
    let result = decode(stream([frame]), piece: 500, into: &decoder)
    #expect(result.error == nil && result.frames == [frame])
  }

  @Test func theErrorStaysUntilReset() {
    var decoder = StreamFrameDecoder(maximumFrameLength: 100)
    let bad = decode([0, 0, 0, 0], piece: 4, into: &decoder)
    #expect(bad.error == .badLength(0))
    #expect(throws: StreamFramingError.badLength(0)) { try decoder.nextFrame { _ in } }
    decoder.reset()
    #expect(decoder.bufferedCount == 0)
    let good = decode(stream([[9, 9]]), piece: 10, into: &decoder)
    #expect(good.error == nil && good.frames == [[9, 9]])
  }

  @Test func anIncompleteFrameWaits() throws {
    var decoder = StreamFrameDecoder(maximumFrameLength: 100)
    let bytes = stream([[1, 2, 3, 4, 5]])
    let space = decoder.reserveSpace()
    space.copyBytes(from: bytes[0..<7])
    decoder.commit(7)
    #expect(try decoder.nextFrame { _ in Issue.record("handed out an incomplete frame") } == false)
    #expect(decoder.bufferedCount == 7)
  }
}

extension Array where Element == UInt8 {
  init(copying span: Span<UInt8>) {
    self = span.withUnsafeBufferPointer { Array($0) }
  }
}
