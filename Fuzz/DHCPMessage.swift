// Fuzz target: the DHCP message view, repr, client and server (Sources/DHCP).
//
// Input: a DHCP message (the payload of a UDP datagram to port 67 or 68), as dnsmasq, udhcpc
// and dhclient send them (seeds from Fuzz/capture-dhcp).
// Checks: `DHCPPacket(checking:)` never traps, and refuses exactly the inputs shorter than 240
// bytes or with a bad operation, hardware type, address length or magic cookie (or whose
// options reach past their field); every option `forEachOption` reports lies inside the
// input; `DHCPMessage` written with `emit` is `encodedLength` bytes, at least 300, and parses
// back to the same value (the options of `file` and `sname` move into the options field).
// Then the message goes to a server (10.0.0.1/24, pool 10.0.0.100-10.0.0.103), whose reply
// must be a BOOTREPLY that parses, carries the request's transaction ID and hardware address
// and an address from the pool (or none); and, with its transaction ID and `chaddr` made the
// client's, to a client in SELECTING and then wherever that took it, whose messages must
// parse and be BOOTREQUESTs of the client's.

import DHCP
import NetCore

private let serverAddress = IPv4CIDR(address: IPv4Address(10, 0, 0, 1), prefixLength: 24)
private let pool = IPv4Address(10, 0, 0, 100)...IPv4Address(10, 0, 0, 103)
private let clientMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let now = Instant(nanoseconds: 1_000_000_000)
  withInput(data, size) { input in
    let headerValid =
      input.count >= 240 && (input[0] == 1 || input[0] == 2) && input[1] == 1 && input[2] == 6
      && input.uint32(at: 236) == 0x6382_5363
    let packet: DHCPPacket
    do throws(WireError) {
      packet = try DHCPPacket(checking: input)
    } catch {
      expect(!headerValid || error == .badOption, "a valid header refused with \(error)")
      return
    }
    expect(headerValid, "an invalid header accepted")
    var optionBytes = 0
    do throws(WireError) {
      try packet.forEachOption { code, data in
        expect(code != 0 && code != 255, "pad or end reported as an option")
        optionBytes += 2 + data.count
      }
    } catch {
      fatalError("forEachOption threw on a checked packet: \(error)")
    }
    expect(optionBytes <= input.count, "options longer than the input")

    guard let message = try? DHCPMessage(packet) else { return }
    let written = message.encoded
    expect(written.count == message.encodedLength, "encodedLength")
    expect(written.count >= 300, "shorter than a BOOTP message")
    guard let reparsed = try? DHCPMessage(parsing: written.span) else {
      fatalError("a written message does not parse")
    }
    expect(reparsed == message, "round trip changed the message")
  }

  // The server.
  var server = DHCPServer(
    configuration: DHCPServer.Configuration(address: serverAddress, pool: pool))
  let request = withInput(data, size) { try? DHCPMessage(parsing: $0) }
  if let reply = withInput(data, size, { server.receive($0, now: now) }) {
    guard let answer = try? DHCPMessage(parsing: reply.message.encoded.span), let request else {
      fatalError("the server's reply does not parse, or answers a message that does not")
    }
    expect(answer.operation == .reply, "a reply that is no BOOTREPLY")
    expect(answer.transactionID == request.transactionID, "transaction ID")
    expect(answer.clientHardwareAddress == request.clientHardwareAddress, "chaddr")
    expect(
      answer.yourAddress == .any || pool.contains(answer.yourAddress), "an address outside the pool"
    )
  }
  expect(server.leases.count <= server.capacity, "the lease table outgrew its bound")

  // The client, in SELECTING, given the input as if it answered its DISCOVER.
  var configuration = DHCPClient.Configuration(hardwareAddress: clientMAC)
  configuration.seed = 1
  configuration.probeCount = 0
  var client = DHCPClient(configuration: configuration)
  var actions = client.start(now: now)
  var bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if bytes.count >= 34 {
    for index in 0..<4 {
      bytes[4 + index] = UInt8(truncatingIfNeeded: client.transactionID >> (24 - 8 * index))
    }
    for index in 0..<6 { bytes[28 + index] = clientMAC.octet(index) }
  }
  for _ in 0..<3 {
    actions += client.receive(bytes.span, now: now)
    if bytes.count >= 8 {
      for index in 0..<4 {
        bytes[4 + index] = UInt8(truncatingIfNeeded: client.transactionID >> (24 - 8 * index))
      }
    }
  }
  actions += client.poll(now: now + .seconds(100_000))
  for action in actions {
    guard case .send(let message, _) = action else { continue }
    guard let sent = try? DHCPMessage(parsing: message.encoded.span) else {
      fatalError("the client sent a message that does not parse")
    }
    expect(sent.operation == .request && sent.clientHardwareAddress == clientMAC, "client message")
  }
  return 0
}
