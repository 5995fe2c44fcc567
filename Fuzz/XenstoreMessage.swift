// Fuzz target: the xenstore wire message parser (Drivers/Netfront/XenstoreMessage.swift), which
// reads what xenstored (or whatever is on the other end of the ring) wrote.
//
// Input: the bytes of the response ring or of /dev/xen/xenbus, as they arrive.
// Checks: `XenstoreMessage.parse` never traps; it asks for more bytes exactly when the header
// or the payload its length field announces is not all there; it refuses exactly the
// payloads longer than XENSTORE_PAYLOAD_MAX; a message it returns takes 16 bytes plus its
// payload and encodes back to exactly those bytes; the reply accessors (error name, ENOENT,
// watch token) never trap.

import Netfront

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var announced = -1
  if bytes.count >= XenstoreMessage.headerLength {
    announced = 0
    for offset in 0..<4 { announced |= Int(bytes[12 + offset]) << (8 * offset) }
  }
  let parsed: (message: XenstoreMessage, length: Int)?
  do {
    parsed = try XenstoreMessage.parse(bytes)
  } catch {
    expect(error == .payloadTooLong(announced), "refused a message it should not have")
    expect(announced > XenstoreMessage.payloadLimit, "refused a payload within the limit")
    return 0
  }
  guard let (message, length) = parsed else {
    expect(
      announced < 0 || bytes.count < XenstoreMessage.headerLength + announced,
      "asked for more bytes than the message needs")
    return 0
  }
  expect(announced <= XenstoreMessage.payloadLimit, "accepted a payload over the limit")
  expect(length == XenstoreMessage.headerLength + announced, "message length")
  expect(message.payload.count == announced, "payload length")
  expect(message.encoded == Array(bytes[0..<length]), "the message does not encode back")
  _ = message.errorName
  _ = message.isNoSuchKey
  _ = message.watchToken
  return 0
}
