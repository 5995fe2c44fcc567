import NetCore

/// The parsed meaning of a TCP header, and how to write one with its checksum (RFC 9293 §3.1).
public struct TCPHeader: Equatable, Sendable {
  public var sourcePort: UInt16
  public var destinationPort: UInt16
  public var sequenceNumber: SequenceNumber
  public var acknowledgmentNumber: SequenceNumber
  public var flags: TCPFlags
  /// The window field as sent (already scaled down).
  public var window: UInt16
  public var options: TCPOptions

  /// Bytes in a header without options.
  public static let minimumLength = 20

  public init(
    sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: SequenceNumber,
    acknowledgmentNumber: SequenceNumber, flags: TCPFlags, window: UInt16,
    options: TCPOptions = TCPOptions()
  ) {
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
    self.sequenceNumber = sequenceNumber
    self.acknowledgmentNumber = acknowledgmentNumber
    self.flags = flags
    self.window = window
    self.options = options
  }

  /// Header length with options.
  public var length: Int { TCPHeader.minimumLength + options.encodedLength }

  /// The checksum of the pseudo-header of either family (RFC 9293 §3.1, RFC 8200 §8.1):
  /// addresses, protocol 6, length.
  public static func pseudoHeaderSum(
    source: IPAddress, destination: IPAddress, length: Int
  ) -> InternetChecksum {
    .pseudoHeader(source: source, destination: destination, protocolNumber: .tcp, length: length)
  }

  /// Prepends this header to `packet`, whose data is the payload, and fills in the checksum.
  ///
  /// With `offloadChecksum`, only the pseudo-header sum is stored and the packet is marked for
  /// the device to finish (`TransmitOffload`); with `segmentSize` as well, the device also
  /// cuts the segment into pieces of that many payload bytes (TSO).
  public func prepend(
    to packet: PacketBuffer, source: IPAddress, destination: IPAddress,
    offloadChecksum: Bool = false, segmentSize: Int? = nil
  ) {
    let headerLength = length
    packet.prepend(headerLength)
    let segmentLength = packet.count
    typealias Field = TCPSegment.Field
    packet.withMutableBytes { bytes in
      bytes.setUInt16(sourcePort, at: Field.sourcePort)
      bytes.setUInt16(destinationPort, at: Field.destinationPort)
      bytes.setUInt32(sequenceNumber.rawValue, at: Field.sequenceNumber)
      bytes.setUInt32(acknowledgmentNumber.rawValue, at: Field.acknowledgmentNumber)
      bytes[Field.dataOffset] = UInt8(headerLength / 4) << 4
      bytes[Field.flags] = flags.rawValue
      bytes.setUInt16(window, at: Field.window)
      bytes.setUInt16(0, at: Field.checksum)
      bytes.setUInt16(0, at: Field.urgentPointer)
      options.emit(into: &bytes, at: Field.options)
      var sum = TCPHeader.pseudoHeaderSum(
        source: source, destination: destination, length: segmentLength)
      if offloadChecksum {
        bytes.setUInt16(sum.partialSum, at: Field.checksum)
      } else {
        sum.add(bytes.span)
        bytes.setUInt16(sum.value, at: Field.checksum)
      }
    }
    if offloadChecksum {
      let start = packet.startIndex
      if let segmentSize, segmentLength - headerLength > segmentSize {
        packet.offload = .tcpSegmentation(
          start: start, checksumOffset: Field.checksum, headerLength: headerLength,
          segmentSize: segmentSize)
      } else {
        packet.offload = .checksum(start: start, checksumOffset: Field.checksum)
      }
    }
  }
}
