import NetCore
import Testing

/// Headroom, prepend/append and the data range of `PacketBuffer`.
struct PacketBufferTests {
  @Test func startsEmptyWithHeadroom() {
    let buffer = PacketBuffer(capacity: 100, headroom: 40)
    #expect(buffer.count == 0)
    #expect(buffer.headroom == 40)
    #expect(buffer.tailroom == 60)
    #expect(buffer.startIndex == 40 && buffer.endIndex == 40)
    #expect(buffer.offload == .none)
    let standard = PacketBuffer(capacity: 500)
    #expect(standard.headroom == PacketBuffer.defaultHeadroom)
  }

  @Test func buildsBackToFront() {
    let buffer = PacketBuffer(capacity: 64, headroom: 16)
    let payload: [UInt8] = [1, 2, 3, 4]
    buffer.append(copying: payload.span)
    #expect(buffer.count == 4 && buffer.headroom == 16 && buffer.tailroom == 44)
    buffer.prepend(2)
    buffer.withMutableBytes { bytes in
      bytes[0] = 0xAA
      bytes[1] = 0xBB
    }
    buffer.prepend(3)
    buffer.withMutableBytes { bytes in bytes.setUInt16(0x1234, at: 0) }
    buffer.withMutableBytes { bytes in bytes[2] = 0x56 }
    #expect(buffer.headroom == 11)
    #expect(buffer.withBytes { $0.copyToArray() } == [0x12, 0x34, 0x56, 0xAA, 0xBB, 1, 2, 3, 4])
    buffer.append(2)
    buffer.withMutableBytes { $0.zero(from: 9, count: 2) }
    #expect(buffer.count == 11)
    #expect(buffer.withBytes { $0.copyToArray() }.suffix(3) == [4, 0, 0])
  }

  @Test func copyingInitializer() {
    let bytes: [UInt8] = Array(0..<50)
    let buffer = PacketBuffer(copying: bytes.span, headroom: 30)
    #expect(buffer.capacity == 80)
    #expect(buffer.headroom == 30)
    #expect(buffer.tailroom == 0)
    #expect(buffer.withBytes { $0.copyToArray() } == bytes)
    let empty = PacketBuffer(copying: [UInt8]().span, headroom: 0)
    #expect(empty.count == 0 && empty.capacity == 0)
    #expect(empty.withBytes { $0.count } == 0)
  }

  @Test func removeFirstAndLast() {
    let buffer = PacketBuffer(copying: Array(UInt8(0)..<10).span, headroom: 4)
    buffer.removeFirst(3)
    buffer.removeLast(2)
    #expect(buffer.withBytes { $0.copyToArray() } == [3, 4, 5, 6, 7])
    #expect(buffer.headroom == 7 && buffer.tailroom == 2)
    buffer.removeFirst(5)
    #expect(buffer.count == 0)
  }

  @Test func resetRestoresHeadroomAndOffload() {
    let buffer = PacketBuffer(capacity: 200, headroom: 10)
    buffer.append(50)
    buffer.offload = .checksum(start: 34, checksumOffset: 6)
    buffer.reset(headroom: 100)
    #expect(buffer.count == 0 && buffer.headroom == 100 && buffer.offload == .none)
  }

  @Test func setRangeAndUnsafeStorage() {
    let buffer = PacketBuffer(capacity: 16, headroom: 0)
    buffer.withUnsafeStorage { storage, range in
      #expect(storage.count == 16)
      #expect(range == 0..<0)
      for index in 0..<16 { storage[index] = UInt8(index) }
    }
    buffer.setRange(4..<9)
    #expect(buffer.withBytes { $0.copyToArray() } == [4, 5, 6, 7, 8])
    buffer.withUnsafeStorage { _, range in #expect(range == 4..<9) }
  }

  @Test func fieldAccessIsBigEndian() {
    let buffer = PacketBuffer(capacity: 8, headroom: 0)
    buffer.append(8)
    buffer.withMutableBytes { bytes in
      bytes.setUInt32(0x0102_0304, at: 0)
      bytes.setUInt16(0xA0B0, at: 4)
      bytes.setUInt8(0x7F, at: 6)
      bytes[7] = 0xEE
    }
    buffer.withBytes { bytes in
      #expect(bytes.copyToArray() == [1, 2, 3, 4, 0xA0, 0xB0, 0x7F, 0xEE])
      #expect(bytes.uint32(at: 0) == 0x0102_0304)
      #expect(bytes.uint32(at: 1) == 0x0203_04A0)
      #expect(bytes.uint16(at: 3) == 0x04A0)
      #expect(bytes.uint8(at: 6) == 0x7F)
    }
  }

  @Test func copyIntoMutableSpanAtOffset() {
    var target = [UInt8](repeating: 0, count: 8)
    let source: [UInt8] = [9, 8, 7]
    var span = target.mutableSpan
    span.copy(from: source.span, at: 5)
    span.copy(from: [UInt8]().span, at: 8)
    #expect(target == [0, 0, 0, 0, 0, 9, 8, 7])
  }
}
