// Fuzz target: the Unix-socket link's frame decoder (Drivers/UnixSocketFraming/
// StreamFrameDecoder.swift), which splits what a QEMU or passt peer (or anyone who can connect to
// `netstackd --unix-listen PATH`) writes into Ethernet frames.
//
// Input: byte 0 sets the largest frame (1 to 1024 bytes, so that inputs reach it), byte 1 the
// buffer's size (from the smallest, one largest frame with its prefix, upwards), byte 2 seeds the
// sizes of the pieces the stream arrives in; the rest is the stream: 32-bit big-endian lengths,
// each followed by a frame.
// Checks: the decoder never traps; it hands out exactly the frames a byte-by-byte reference reads
// from the whole stream, however the stream is cut into pieces, and stops with the same error at
// the same frame (a length of 0 or above the largest); after every whole frame has been taken it
// always offers free space for the next read; it holds no more than its buffer and, at the end,
// exactly the bytes of the incomplete last frame.

import UnixSocketFraming

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var reader = FuzzReader(data, size)
  let maximum = 1 + Int(reader.uint8()) * 4
  let extra = Int(reader.uint8()) * 16
  var seed = UInt32(reader.uint8()) | 1
  let stream = Array(reader.bytes(reader.remaining))

  // The reference, over the whole stream at once.
  var expected: [[UInt8]] = []
  var expectedError: StreamFramingError? = nil
  var offset = 0
  while stream.count - offset >= 4 {
    var length = 0
    for index in 0..<4 { length = length << 8 | Int(stream[offset + index]) }
    if length == 0 || length > maximum {
      expectedError = .badLength(length)
      break
    }
    guard stream.count - offset - 4 >= length else { break }
    expected.append(Array(stream[(offset + 4)..<(offset + 4 + length)]))
    offset += 4 + length
  }
  let leftover = stream.count - offset

  var decoder = StreamFrameDecoder(maximumFrameLength: maximum, capacity: maximum + 4 + extra)
  expect(decoder.capacity == maximum + 4 + extra, "capacity")
  var frames: [[UInt8]] = []
  var error: StreamFramingError? = nil
  var fed = 0
  feeding: while true {
    do {
      while try decoder.nextFrame({ frame in
        expect(frame.count >= 1 && frame.count <= maximum, "a frame of \(frame.count) bytes")
        frames.append(frame.withUnsafeBufferPointer { Array($0) })
      }) {}
    } catch let thrown {
      error = thrown
      break feeding
    }
    expect(decoder.bufferedCount < maximum + 4, "a whole frame left in the buffer")
    guard fed < stream.count else { break }
    let space = decoder.reserveSpace()
    expect(space.count > 0, "no space offered after every frame was taken")
    seed = seed &* 1_103_515_245 &+ 12345
    let piece = min(1 + Int(seed >> 16) % (2 * maximum + 8), space.count, stream.count - fed)
    space.copyBytes(from: stream[fed..<(fed + piece)])
    decoder.commit(piece)
    fed += piece
    expect(decoder.bufferedCount <= decoder.capacity, "holds more than its buffer")
  }
  expect(
    frames == expected, "frames differ from the reference: \(frames.count) vs \(expected.count)")
  expect(
    error == expectedError,
    "error \(String(describing: error)) vs \(String(describing: expectedError))")
  if error == nil {
    expect(
      decoder.bufferedCount == leftover, "keeps \(decoder.bufferedCount) bytes, not \(leftover)")
  }
  decoder.reset()
  expect(decoder.bufferedCount == 0, "reset")
  return 0
}
