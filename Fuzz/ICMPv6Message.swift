// Fuzz target: ICMPv6 messages and their parsers (Sources/IPv6/ICMPv6Packet.swift, the
// neighbour discovery messages and NDPOptions, MLDQueryMessage, MLDv2ReportMessage).
//
// Input: 16 bytes of IPv6 source, 16 of destination, 1 of hop limit, then the ICMPv6 message.
// Each message is parsed as it is and with its checksum corrected for the two addresses.
// Checks: nothing traps; `ICMPv6Packet(checking:)` agrees with a reference checksum over the
// pseudo-header; every parser that accepts the message gives a value that, written again and
// parsed again, is the same value (router solicitation and advertisement, neighbour
// solicitation and advertisement, redirect, the options, an MLDv2 report); a query's
// sources fit the message; accepted messages meet their RFC 4861 rule (hop limit 255, code
// 0, a non-multicast target).

import IPv6
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 33 else { return 0 }
  withInput(data, size) { input in
    let source = IPv6Address(input, at: 0)
    let destination = IPv6Address(input, at: 16)
    let hopLimit = input[32]
    let message = input.extracting(droppingFirst: 33)
    check(message, source: source, destination: destination, hopLimit: hopLimit)
    var fixed = message.copyToArray()
    if fixed.count >= 8 {
      fixChecksum(
        &fixed, range: 0..<fixed.count, at: 2,
        prefix: pseudoHeader6(source, destination, length: fixed.count))
      check(fixed.span, source: source, destination: destination, hopLimit: hopLimit)
    }
  }
  return 0
}

/// The 40-byte pseudo-header of RFC 8200 §8.1 for ICMPv6.
private func pseudoHeader6(_ source: IPv6Address, _ destination: IPv6Address, length: Int)
  -> [UInt8]
{
  source.octets + destination.octets
    + [
      UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
      UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length), 0, 0, 0, 58,
    ]
}

private func check(
  _ bytes: Span<UInt8>, source: IPv6Address, destination: IPv6Address, hopLimit: UInt8
) {
  let reference = referenceVerifies(
    pseudoHeader6(source, destination, length: bytes.count), bytes.copyToArray())
  let message: ICMPv6Packet
  do {
    message = try ICMPv6Packet(checking: bytes, source: source, destination: destination)
  } catch {
    if error == .badChecksum { expect(!reference, "a valid checksum was refused") }
    return
  }
  expect(reference, "a bad checksum was accepted")
  let context = NDPContext(source: source, destination: destination, hopLimit: hopLimit)

  /// Writes `header` and `body` as a message and parses it with `parse`.
  func again<Value>(
    _ header: ICMPv6Header, _ body: [UInt8],
    _ parse: (borrowing ICMPv6Packet) throws -> Value
  ) -> Value? {
    let buffer = PacketBuffer(copying: body.span, headroom: ICMPv6Header.length)
    header.prepend(to: buffer, source: source, destination: destination)
    return buffer.withBytes { written -> Value? in
      guard
        let view = try? ICMPv6Packet(checking: written, source: source, destination: destination)
      else { fatalError("a written message does not verify") }
      return try? parse(view)
    }
  }

  if let options = try? NDPOptions(parsing: message.body) {
    let reparsed = try? NDPOptions(parsing: options.emitted().span)
    expect(reparsed == kept(options), "options round trip")
  }
  switch message.type {
  case .routerSolicitation:
    if var value = try? RouterSolicitationMessage(parsing: message, context: context) {
      expect(hopLimit == 255 && message.code == 0, "RS rules")
      value.options = kept(value.options)
      expect(
        again(value.icmpHeader, value.body) {
          try RouterSolicitationMessage(parsing: $0, context: context)
        }.map {
          var v = $0
          v.options = kept(v.options)
          return v
        } == value, "RS round trip")
    }
  case .routerAdvertisement:
    if var value = try? RouterAdvertisementMessage(parsing: message, context: context) {
      expect(hopLimit == 255 && source.isLinkLocal, "RA rules")
      value.options = kept(value.options)
      expect(
        again(value.icmpHeader, value.body) {
          try RouterAdvertisementMessage(parsing: $0, context: context)
        }.map {
          var v = $0
          v.options = kept(v.options)
          return v
        } == value, "RA round trip")
    }
  case .neighbourSolicitation:
    if var value = try? NeighbourSolicitationMessage(parsing: message, context: context) {
      expect(hopLimit == 255 && !value.target.isMulticast, "NS rules")
      value.options = kept(value.options)
      expect(
        again(value.icmpHeader, value.body) {
          try NeighbourSolicitationMessage(parsing: $0, context: context)
        }.map {
          var v = $0
          v.options = kept(v.options)
          return v
        } == value, "NS round trip")
    }
  case .neighbourAdvertisement:
    if var value = try? NeighbourAdvertisementMessage(parsing: message, context: context) {
      expect(hopLimit == 255 && !value.target.isMulticast, "NA rules")
      expect(!(value.solicited && destination.isMulticast), "NA solicited to a group")
      value.options = kept(value.options)
      expect(
        again(value.icmpHeader, value.body) {
          try NeighbourAdvertisementMessage(parsing: $0, context: context)
        }.map {
          var v = $0
          v.options = kept(v.options)
          return v
        } == value, "NA round trip")
    }
  case .redirect:
    if var value = try? RedirectMessage(parsing: message, context: context) {
      expect(value.target.isLinkLocal || value.target == value.destination, "redirect target")
      value.options = kept(value.options)
      expect(
        again(value.icmpHeader, value.body) {
          try RedirectMessage(parsing: $0, context: context)
        }.map {
          var v = $0
          v.options = kept(v.options)
          return v
        } == value, "redirect round trip")
    }
  case .multicastListenerQuery:
    if let query = try? MLDQueryMessage(parsing: message, source: source) {
      expect(
        24 + (query.sources.isEmpty ? 0 : 4 + 16 * query.sources.count) <= bytes.count,
        "query sources")
    }
  case .multicastListenerReportV2:
    if let report = try? MLDv2ReportMessage(parsing: message) {
      expect(
        again(report.icmpHeader, report.body) { try MLDv2ReportMessage(parsing: $0) } == report,
        "report round trip")
    }
  default:
    break
  }
}

/// The options as they come back after `emitted()`: what was ignored, and the redirected
/// header (never written), are not there.
private func kept(_ options: NDPOptions) -> NDPOptions {
  var kept = options
  kept.ignoredOptions = 0
  kept.hasRedirectedHeader = false
  return kept
}
