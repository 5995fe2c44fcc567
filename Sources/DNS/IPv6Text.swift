/// Reads an IPv6 address in text form (RFC 4291 §2.2): eight groups of one to four hex digits,
/// `::` once for a run of zero groups, and optionally a dotted quad for the last 32 bits.
/// Returns the 16 bytes, or nil when the text is anything else. (The resolver keeps IPv6 name
/// servers for when the forwarder reaches them; no zone index here, the caller splits it off.)
func parseIPv6Text(_ text: ArraySlice<UInt8>) -> [UInt8]? {
  guard !text.isEmpty, text.count <= 45 else { return nil }
  // Split at "::" (at most one).
  let bytes = Array(text)
  var doubleColon: Int? = nil
  var index = 0
  while index + 1 < bytes.count {
    if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
      guard doubleColon == nil else { return nil }
      doubleColon = index
      index += 2
    } else {
      index += 1
    }
  }
  func groups(_ part: ArraySlice<UInt8>, allowIPv4: Bool) -> [UInt16]? {
    if part.isEmpty { return [] }
    var result: [UInt16] = []
    let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
    for (position, piece) in pieces.enumerated() {
      if allowIPv4 && position == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
        guard let quad = parseQuad(piece) else { return nil }
        result.append(UInt16(quad >> 16))
        result.append(UInt16(truncatingIfNeeded: quad))
        continue
      }
      guard !piece.isEmpty, piece.count <= 4 else { return nil }
      var value: UInt16 = 0
      for byte in piece {
        guard let digit = hexDigit(byte) else { return nil }
        value = value << 4 | UInt16(digit)
      }
      result.append(value)
    }
    return result
  }
  var all: [UInt16]
  if let at = doubleColon {
    guard let head = groups(bytes[0..<at], allowIPv4: false),
      let tail = groups(bytes[(at + 2)...], allowIPv4: true), head.count + tail.count <= 7
    else { return nil }
    all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
  } else {
    guard let every = groups(bytes[...], allowIPv4: true), every.count == 8 else { return nil }
    all = every
  }
  var result: [UInt8] = []
  for group in all {
    result.append(UInt8(group >> 8))
    result.append(UInt8(truncatingIfNeeded: group))
  }
  return result
}

private func hexDigit(_ byte: UInt8) -> UInt8? {
  switch byte {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
  case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
  case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
  default: nil
  }
}

/// A strict dotted quad (four decimal parts 0-255, no leading zeros) as a number.
func parseQuad(_ text: ArraySlice<UInt8>) -> UInt32? {
  let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
  guard parts.count == 4 else { return nil }
  var value: UInt32 = 0
  for part in parts {
    guard !part.isEmpty, part.count <= 3, part.count == 1 || part.first != UInt8(ascii: "0")
    else { return nil }
    var number: UInt32 = 0
    for byte in part {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      number = number * 10 + UInt32(byte - UInt8(ascii: "0"))
    }
    guard number <= 255 else { return nil }
    value = value << 8 | number
  }
  return value
}
