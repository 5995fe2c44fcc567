import CXenABI
import CXenShims
import Glibc
import Netfront
import Testing

@testable import XenLinuxPlatform

/// The Linux platform's pieces that run without Xen: its ioctl numbers against Linux's
/// `xen/sys/*.h`, and its xenstore client speaking xs_wire (`xen/io/xs_wire.h`) to a fake
/// xenstored on the other end of a socket pair.
struct XenLinuxPlatformTests {
  @Test func ioctlNumbersMatchTheHeaders() {
    let c = HeaderLayoutTests.c
    #expect(c["IOCTL_GNTALLOC_ALLOC_GREF"] == Int64(netstack_ioctl_gntalloc_alloc_gref))
    #expect(c["IOCTL_GNTALLOC_DEALLOC_GREF"] == Int64(netstack_ioctl_gntalloc_dealloc_gref))
    #expect(c["GNTALLOC_FLAG_WRITABLE"] == Int64(netstack_gntalloc_flag_writable))
    #expect(
      c["sizeof(struct ioctl_gntalloc_alloc_gref)"]
        == Int64(netstack_sizeof_ioctl_gntalloc_alloc_gref))
    #expect(c["IOCTL_EVTCHN_BIND_UNBOUND_PORT"] == Int64(netstack_ioctl_evtchn_bind_unbound_port))
    #expect(c["IOCTL_EVTCHN_UNBIND"] == Int64(netstack_ioctl_evtchn_unbind))
    #expect(c["IOCTL_EVTCHN_NOTIFY"] == Int64(netstack_ioctl_evtchn_notify))
  }

  @Test func xsWireValuesMatchTheHeader() {
    let c = HeaderLayoutTests.c
    #expect(c["sizeof(struct xsd_sockmsg)"] == Int64(XenstoreMessage.headerLength))
    #expect(c["offsetof(struct xsd_sockmsg, type)"] == 0)
    #expect(c["offsetof(struct xsd_sockmsg, req_id)"] == 4)
    #expect(c["offsetof(struct xsd_sockmsg, tx_id)"] == 8)
    #expect(c["offsetof(struct xsd_sockmsg, len)"] == 12)
    #expect(c["XS_READ"] == Int64(XenstoreMessageType.read.rawValue))
    #expect(c["XS_WRITE"] == Int64(XenstoreMessageType.write.rawValue))
    #expect(c["XS_WATCH"] == Int64(XenstoreMessageType.watch.rawValue))
    #expect(c["XS_UNWATCH"] == Int64(XenstoreMessageType.unwatch.rawValue))
    #expect(c["XS_WATCH_EVENT"] == Int64(XenstoreMessageType.watchEvent.rawValue))
    #expect(c["XS_ERROR"] == Int64(XenstoreMessageType.error.rawValue))
    #expect(c["XS_WATCH_PATH"] == 0 && c["XS_WATCH_TOKEN"] == 1)
    #expect(c["XENSTORE_PAYLOAD_MAX"] == Int64(XenstoreMessage.payloadLimit))
  }

  /// A socket pair: the client's end and the fake xenstored's.
  final class Wire {
    let client: Int32
    let server: Int32

    init() {
      var pair: [Int32] = [0, 0]
      precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
      client = pair[0]
      server = pair[1]
    }

    deinit {
      close(client)
      close(server)
    }

    /// Queues a message for the client.
    func reply(type: UInt32, id: UInt32, _ payload: [UInt8]) {
      var message: [UInt8] = []
      for field in [type, id, 0, UInt32(payload.count)] {
        withUnsafeBytes(of: field) { message.append(contentsOf: $0) }
      }
      message += payload
      _ = message.withUnsafeBytes { write(server, $0.baseAddress, $0.count) }
    }

    /// What the client sent, as (type, id, tx, payload) messages.
    func received() -> [(UInt32, UInt32, UInt32, [UInt8])] {
      var bytes = [UInt8](repeating: 0, count: 65536)
      let count = bytes.withUnsafeMutableBytes {
        recv(server, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
      }
      var messages: [(UInt32, UInt32, UInt32, [UInt8])] = []
      var offset = 0
      while count > 0 && offset + 16 <= count {
        let fields = (0..<4).map { index in
          bytes[(offset + index * 4)..<(offset + index * 4 + 4)].withUnsafeBytes {
            $0.loadUnaligned(as: UInt32.self)
          }
        }
        let length = Int(fields[3])
        messages.append(
          (fields[0], fields[1], fields[2], Array(bytes[(offset + 16)..<(offset + 16 + length)])))
        offset += 16 + length
      }
      return messages
    }
  }

  static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  @Test func requestsAreXsWireMessagesAndRepliesMatchTheirIDs() throws {
    let wire = Wire()
    var connection = XenstoreConnection(fileDescriptor: wire.client)
    // Replies are queued before the requests go out: the ids are 1, 2, 3 in order.
    wire.reply(type: 2, id: 1, Self.bytes("/local/domain/0/backend/vif/1/0"))
    #expect(try connection.read("device/vif/0/backend") == "/local/domain/0/backend/vif/1/0")
    wire.reply(type: 11, id: 2, Self.bytes("OK") + [0])
    try connection.write("device/vif/0/state", "4")
    wire.reply(type: 4, id: 3, Self.bytes("OK") + [0])
    try connection.watch("/local/domain/0/backend/vif/1/0/state", token: "1315307520")
    let sent = wire.received()
    #expect(sent.count == 3)
    #expect(sent[0].0 == 2 && sent[0].1 == 1 && sent[0].2 == 0)
    #expect(sent[0].3 == Self.bytes("device/vif/0/backend") + [0])
    #expect(
      sent[1].0 == 11 && sent[1].3 == Self.bytes("device/vif/0/state") + [0] + Self.bytes("4"))
    #expect(
      sent[2].0 == 4
        && sent[2].3 == Self.bytes("/local/domain/0/backend/vif/1/0/state") + [0]
          + Self.bytes("1315307520") + [0]
    )
  }

  @Test func watchEventsBetweenARequestAndItsReplyAreKept() throws {
    let wire = Wire()
    var connection = XenstoreConnection(fileDescriptor: wire.client)
    #expect(try !connection.takeWatchEvent("7"))
    wire.reply(type: 15, id: 0, Self.bytes("/some/path") + [0] + Self.bytes("7") + [0])
    wire.reply(type: 2, id: 99, Self.bytes("stale reply to someone else"))
    wire.reply(type: 2, id: 1, Self.bytes("2"))
    wire.reply(type: 15, id: 0, Self.bytes("/other") + [0] + Self.bytes("8") + [0])
    #expect(try connection.read("x") == "2")
    #expect(try connection.takeWatchEvent("7"))
    #expect(try !connection.takeWatchEvent("7"), "taken once")
    #expect(try connection.takeWatchEvent("8"))
  }

  @Test func errorsAreReportedAndEnoentIsAbsence() throws {
    let wire = Wire()
    var connection = XenstoreConnection(fileDescriptor: wire.client)
    wire.reply(type: 16, id: 1, Self.bytes("ENOENT") + [0])
    #expect(try connection.read("device/vif/7/backend") == nil)
    wire.reply(type: 16, id: 2, Self.bytes("EACCES") + [0])
    #expect(
      throws: XenLinuxError.xenstore(operation: "write", path: "/local/domain/0/x", error: "EACCES")
    ) {
      try connection.write("/local/domain/0/x", "1")
    }
    wire.reply(type: 16, id: 3, Self.bytes("ENOENT") + [0])
    #expect(throws: XenLinuxError.xenstore(operation: "watch", path: "p", error: "ENOENT")) {
      try connection.watch("p", token: "1")
    }
    shutdown(wire.server, Int32(SHUT_WR))
    #expect(throws: XenLinuxError.malformedMessage("end of file")) { _ = try connection.read("y") }
  }

  @Test func aMessageSplitAcrossReadsIsReassembled() throws {
    let wire = Wire()
    var connection = XenstoreConnection(fileDescriptor: wire.client)
    var message: [UInt8] = []
    for field in [UInt32(2), 1, 0, 5] {
      withUnsafeBytes(of: field) { message.append(contentsOf: $0) }
    }
    message += Self.bytes("hello")
    let writer = message
    let server = wire.server
    let thread = Thread {
      for byte in writer {
        var copy = byte
        _ = write(server, &copy, 1)
        usleep(200)
      }
    }
    thread.start()
    #expect(try connection.read("k") == "hello")
    thread.join()
  }
}

/// A minimal thread for the tests (no Foundation).
final class Thread {
  private var handle = pthread_t()
  private let body: () -> Void

  init(_ body: @escaping () -> Void) { self.body = body }

  func start() {
    let context = Unmanaged.passRetained(self).toOpaque()
    pthread_create(
      &handle, nil,
      { context in
        let thread = Unmanaged<Thread>.fromOpaque(context!).takeRetainedValue()
        thread.body()
        return nil
      }, context)
  }

  func join() { pthread_join(handle, nil) }
}
