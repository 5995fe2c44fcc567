// Fuzz target: the UDP datagram view and its checksum (Sources/UDP/UDPDatagram.swift,
// Sources/NetCore/InternetChecksum.swift).
//
// Input: bytes 0..<4 the IPv4 source address, 4..<8 the destination address (the
// pseudo-header's addresses), then a UDP datagram (the payload of an IPv4 packet with
// protocol 17, which may be longer than the UDP length field says).
// Checks: `UDPDatagram(checking:)` never traps and accepts exactly the inputs whose length
// field lies between 8 and the bytes available; `checksumIsValid` agrees with a byte-by-byte
// reference checksum over the pseudo-header (a zero checksum meaning "none"); summing the
// datagram in two pieces split at any point gives the same result as in one; a datagram
// written with `UDPHeader.prepend` parses to the same ports and payload and verifies.

import IPv4
import NetCore
import UDP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 8 else { return 0 }
  withInput(data, size) { input in
    let source = IPv4Address(input, at: 0)
    let destination = IPv4Address(input, at: 4)
    let bytes = input.extracting(droppingFirst: 8)

    let lengthField = bytes.count >= 8 ? Int(bytes.uint16(at: 4)) : -1
    let wellFormed = lengthField >= UDPHeader.length && lengthField <= bytes.count
    guard let datagram = try? UDPDatagram(checking: bytes) else {
      expect(!wellFormed, "a well-formed datagram was refused")
      return
    }
    expect(wellFormed, "a malformed datagram was accepted")
    expect(datagram.length == lengthField && datagram.bytes.count == lengthField, "length")
    expect(datagram.payload.count == lengthField - UDPHeader.length, "payload length")

    // The checksum, against the reference.
    let contents = datagram.bytes.copyToArray()
    let pseudo = pseudoHeader(
      source: source, destination: destination, protocolNumber: 17, length: datagram.length)
    let valid = datagram.checksumIsValid(source: .v4(source), destination: .v4(destination))
    expect(
      valid == (datagram.checksum == 0 || referenceVerifies(pseudo, contents)),
      "checksumIsValid disagrees with the reference")

    // Summing in two pieces, split where the first input byte says (odd splits included).
    let split = Int(input[0]) % (contents.count + 1)
    var whole = InternetChecksum()
    whole.add(datagram.bytes)
    var pieces = InternetChecksum()
    pieces.add(datagram.bytes.extracting(0..<split))
    pieces.add(datagram.bytes.extracting(split..<contents.count))
    expect(whole.value == pieces.value, "split sum at \(split)")
    expect(whole.value == referenceChecksum(contents), "sum against the reference")

    // Writing the datagram again.
    let packet = PacketBuffer(copying: datagram.payload)
    UDPHeader(sourcePort: datagram.sourcePort, destinationPort: datagram.destinationPort)
      .prepend(to: packet, source: .v4(source), destination: .v4(destination))
    let written = packet.contents
    guard let reparsed = try? UDPDatagram(checking: written.span) else {
      fatalError("a written datagram does not parse")
    }
    expect(reparsed.sourcePort == datagram.sourcePort, "source port")
    expect(reparsed.destinationPort == datagram.destinationPort, "destination port")
    expect(reparsed.payload.copyToArray() == datagram.payload.copyToArray(), "payload")
    expect(reparsed.checksum != 0, "a written checksum is never zero")
    expect(
      reparsed.checksumIsValid(source: .v4(source), destination: .v4(destination)),
      "written checksum")
  }
  return 0
}
