/// Big-endian (network byte order) field access on byte spans.
///
/// Every wire format in the stack reads and writes its fields through these helpers, so that
/// byte order is handled in exactly one place. Offsets are bounds-checked by the span: a
/// parser validates lengths first, so a failed check here is a bug, not bad input.
extension Span where Element == UInt8 {
  /// The byte at `offset`.
  @inlinable
  public func uint8(at offset: Int) -> UInt8 { self[offset] }

  /// The big-endian 16-bit field at `offset`.
  @inlinable
  public func uint16(at offset: Int) -> UInt16 {
    UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
  }

  /// The big-endian 32-bit field at `offset`.
  @inlinable
  public func uint32(at offset: Int) -> UInt32 {
    UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
      | UInt32(self[offset + 3])
  }

  /// Copies the bytes into a new array.
  public func copyToArray() -> [UInt8] {
    withUnsafeBufferPointer { Array($0) }
  }
}

extension MutableSpan where Element == UInt8 {
  /// Writes one byte at `offset`.
  @inlinable
  public mutating func setUInt8(_ value: UInt8, at offset: Int) { self[offset] = value }

  /// Writes a big-endian 16-bit field at `offset`.
  @inlinable
  public mutating func setUInt16(_ value: UInt16, at offset: Int) {
    self[offset] = UInt8(truncatingIfNeeded: value >> 8)
    self[offset + 1] = UInt8(truncatingIfNeeded: value)
  }

  /// Writes a big-endian 32-bit field at `offset`.
  @inlinable
  public mutating func setUInt32(_ value: UInt32, at offset: Int) {
    self[offset] = UInt8(truncatingIfNeeded: value >> 24)
    self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
    self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
    self[offset + 3] = UInt8(truncatingIfNeeded: value)
  }

  /// Copies `source` into this span starting at `offset`.
  @inlinable
  public mutating func copy(from source: Span<UInt8>, at offset: Int) {
    precondition(offset >= 0 && offset + source.count <= count, "copy out of bounds")
    withUnsafeMutableBufferPointer { destination in
      source.withUnsafeBufferPointer { source in
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        (to + offset).update(from: from, count: source.count)
      }
    }
  }

  /// Sets `count` bytes from `offset` to zero.
  @inlinable
  public mutating func zero(from offset: Int, count length: Int) {
    precondition(offset >= 0 && offset + length <= count, "zero out of bounds")
    withUnsafeMutableBufferPointer { destination in
      guard let to = destination.baseAddress else { return }
      (to + offset).update(repeating: 0, count: length)
    }
  }
}
