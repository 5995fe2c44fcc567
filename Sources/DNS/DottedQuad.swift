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
