/// The text forms of an IPv6 address: any form of RFC 4291 §2.2 is read, and the one canonical
/// form of RFC 5952 §4 is written.
extension IPv6Address {
  /// Parses an address in any form of RFC 4291 §2.2: eight groups of one to four hexadecimal
  /// digits (`2001:db8:0:0:1:0:0:1`), one `::` standing for one or more zero groups
  /// (`2001:db8::1`), and the last two groups written as a dotted quad (`::ffff:192.0.2.1`).
  /// No zone (`%eth0`), brackets or prefix length.
  public init(parsing text: String) throws(AddressParseError) {
    guard let (high, low) = parseIPv6Groups(Array(text.utf8)) else {
      throw .invalidIPv6Address(text)
    }
    self.init(high: high, low: low)
  }
}

extension IPv6Address: CustomStringConvertible {
  /// RFC 5952 §4: lower-case hexadecimal without leading zeros; the longest run of two or more
  /// zero groups (the first of equal runs) written as `::`; an IPv4-mapped address as
  /// `::ffff:a.b.c.d` (§5).
  public var description: String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(39)
    if isIPv4Mapped {
      bytes.append(contentsOf: "::ffff:".utf8)
      for index in 12..<16 {
        if index > 12 { bytes.append(UInt8(ascii: ".")) }
        appendDecimal(UInt32(octet(index)), to: &bytes)
      }
      return String(decoding: bytes, as: UTF8.self)
    }
    // The longest run of zero groups, if at least two long.
    var bestStart = -1
    var bestLength = 0
    var index = 0
    while index < 8 {
      guard group(index) == 0 else {
        index += 1
        continue
      }
      var end = index
      while end < 8 && group(end) == 0 { end += 1 }
      if end - index > bestLength {
        bestStart = index
        bestLength = end - index
      }
      index = end
    }
    if bestLength < 2 { bestStart = -1 }
    index = 0
    while index < 8 {
      if index == bestStart {
        bytes.append(contentsOf: "::".utf8)
        index += bestLength
        continue
      }
      if index > 0 && index != bestStart + bestLength { bytes.append(UInt8(ascii: ":")) }
      appendHexGroup(group(index), to: &bytes)
      index += 1
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// Appends `value` in lower-case hexadecimal without leading zeros.
private func appendHexGroup(_ value: UInt16, to bytes: inout [UInt8]) {
  let digits: StaticString = "0123456789abcdef"
  var started = false
  digits.withUTF8Buffer { table in
    for shift in stride(from: 12, through: 0, by: -4) {
      let digit = Int(value >> UInt16(shift) & 0xF)
      if digit != 0 || started || shift == 0 {
        bytes.append(table[digit])
        started = true
      }
    }
  }
}

/// The two halves of the address written in `text`, or nil unless it is exactly an address of
/// RFC 4291 §2.2.
func parseIPv6Groups(_ text: [UInt8]) -> (UInt64, UInt64)? {
  guard text.count >= 2 && text.count <= 45 else { return nil }
  var head: [UInt16] = []  // groups before "::", or all of them when there is none
  var tail: [UInt16] = []  // groups after "::"
  var sawDoubleColon = false
  var index = 0
  let colon = UInt8(ascii: ":")
  if text[0] == colon {
    // Only "::" may start the text.
    guard text[1] == colon else { return nil }
    sawDoubleColon = true
    index = 2
    if index == text.count { return (0, 0) }
  }
  while index < text.count {
    // One group (or a trailing dotted quad), then ":" or "::" or the end.
    var end = index
    while end < text.count && text[end] != colon { end += 1 }
    let part = text[index..<end]
    if part.contains(UInt8(ascii: ".")) {
      // A dotted quad ends the address and stands for two groups.
      guard end == text.count, let quad = parseDottedQuad(part) else { return nil }
      let groups = [UInt16(truncatingIfNeeded: quad >> 16), UInt16(truncatingIfNeeded: quad)]
      if sawDoubleColon { tail += groups } else { head += groups }
      index = end
      break
    }
    guard !part.isEmpty, part.count <= 4 else { return nil }
    var value: UInt16 = 0
    for byte in part {
      guard let digit = hexValue(byte) else { return nil }
      value = value << 4 | UInt16(digit)
    }
    if sawDoubleColon { tail.append(value) } else { head.append(value) }
    index = end
    if index == text.count { break }
    // At a colon: a single one separates groups, a double one stands for zeros (once).
    index += 1
    if index < text.count && text[index] == colon {
      guard !sawDoubleColon else { return nil }
      sawDoubleColon = true
      index += 1
      if index == text.count { break }
    } else if index == text.count {
      return nil  // a single trailing colon
    }
  }
  let written = head.count + tail.count
  if sawDoubleColon {
    guard written <= 7 else { return nil }
  } else {
    guard written == 8 else { return nil }
  }
  let groups = head + [UInt16](repeating: 0, count: 8 - written) + tail
  var high: UInt64 = 0
  var low: UInt64 = 0
  for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
  for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
  return (high, low)
}
