// Fuzz target: the control socket's request parser (Sources/ControlProtocol/ControlRequest.swift),
// which reads whatever a local client of `netstackd --control PATH` sends.
//
// Input: the bytes a client sends, as they arrive.
// Checks: `ControlRequest.parse` never traps; it waits (incomplete) exactly while there is no line
// feed in fewer than `maximumLength` bytes, and refuses as too long exactly when there is none in
// the first `maximumLength`; a request is exactly the first line, trimmed of spaces, tabs and
// carriage returns, being `status`, `status text` or `status json` (a reference parse); the
// decision comes with the line feed (or the limit), not a byte earlier, and bytes after it do not
// change it (so the daemon decides at once and keeps no more than the limit); an unknown request is
// quoted back in printable ASCII, at most 64 characters and "...", and every error answer is one
// line. A line starting with "publish" is a publish request or an error: an added or removed spec
// (PublishSpec.parse) prints as a spec that parses back to itself, its ports are not 0 and its
// guest address is unicast; `publish list` only with nothing but `json` or `text` after it.

import ControlProtocol
import NetCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let limit = ControlRequest.maximumLength
  let result = ControlRequest.parse(bytes)

  // The decision comes with the line feed (or the limit's last byte), not before; the bytes
  // after it do not change it, so the daemon decides at once and keeps no more than the limit.
  let window = bytes.prefix(limit)
  let decidedAt = window.firstIndex(of: 0x0A).map { $0 + 1 } ?? limit
  if decidedAt <= bytes.count {
    expect(ControlRequest.parse(bytes[..<(decidedAt - 1)]) == .incomplete, "decided too early")
    expect(ControlRequest.parse(bytes[..<decidedAt]) == result, "more bytes changed the decision")
  } else {
    expect(result == .incomplete, "decided without a line feed below the limit")
  }

  // The reference: the first line within the limit, trimmed.
  guard let lineEnd = window.firstIndex(of: 0x0A) else {
    expect(
      result == (bytes.count >= limit ? .invalid(.tooLong) : .incomplete),
      "no line feed within the limit: \(result)")
    return 0
  }
  var line = bytes[..<lineEnd]
  let blanks: [UInt8] = [0x20, 0x09, 0x0D]
  while let first = line.first, blanks.contains(first) { line.removeFirst() }
  while let last = line.last, blanks.contains(last) { line.removeLast() }
  switch Array(line) {
  case Array("status".utf8), Array("status text".utf8):
    expect(result == .request(.status(json: false)), "status: \(result)")
  case Array("status json".utf8):
    expect(result == .request(.status(json: true)), "status json: \(result)")
  case let words where words.starts(with: Array("publish".utf8)):
    switch result {
    case .request(.publishAdd(let spec)), .request(.publishRemove(let spec)):
      expect((try? PublishSpec.parse(spec.description)) == spec, "spec does not round-trip")
      expect(spec.hostPort != 0 && spec.guestPort != 0, "port 0 taken")
      expect(guestIsUnicast(spec.guestAddress), "guest address not unicast")
    case .request(.publishList):
      let text = String(decoding: words, as: UTF8.self)
      expect(
        ["publish list", "publish list json", "publish list text"].contains(text),
        "list parsed from \(text)")
    case .invalid(.unknown), .invalid(.badPublishSpec): break
    default: expect(false, "a publish line parsed as \(result)")
    }
  default:
    guard case .invalid(.unknown(let excerpt)) = result else {
      expect(false, "an unknown line parsed as \(result)")
      return 0
    }
    expect(
      excerpt.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F },
      "excerpt not printable")
    expect(excerpt.unicodeScalars.count <= 64 + 3, "excerpt too long")
    expect(excerpt.count == min(line.count, 64) + (line.count > 64 ? 3 : 0), "excerpt length")
  }
  if case .invalid(let error) = result {
    let answer = error.answer
    expect(answer.hasPrefix("error: ") && answer.hasSuffix("\n"), "answer shape")
    expect(answer.utf8.filter { $0 == 0x0A }.count == 1, "answer is one line")
  }

  return 0
}

/// What PublishSpec.parse promises of a guest address: one host's, never "any" or a loopback.
private func guestIsUnicast(_ address: IPAddress) -> Bool {
  switch address {
  case .v4(let v4): !v4.isLoopback && v4 != .any
  case .v6(let v6): v6.isUnicast && !v6.isLinkLocal
  }
}
