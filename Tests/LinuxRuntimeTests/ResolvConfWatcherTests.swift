import DNS
import Glibc
import LinuxRuntime
import NetCore
import Testing

/// The resolv.conf watcher on real files in a directory of its own (no network): when it looks,
/// what it notices, and that nothing at the path can block it.
struct ResolvConfWatcherTests {
  /// A fresh directory, removed with its files after `body`.
  private func inDirectory(_ body: (String) throws -> Void) throws {
    var template = Array("/tmp/resolv-watcher-XXXXXX".utf8CString)
    let directory = try #require(
      template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
    let path = String(cString: directory)
    defer {
      for name in ["resolv.conf", "next", "fifo"] { unlink(path + "/" + name) }
      rmdir(path)
    }
    try body(path)
  }

  private func put(_ text: String, to path: String) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    precondition(descriptor >= 0)
    _ = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
    close(descriptor)
  }

  private let start = Instant(nanoseconds: 5_000_000_000)

  @Test func aMissingFileMeansNoServersAndIsLookedAtOnceASecond() throws {
    try inDirectory { directory in
      let path = directory + "/resolv.conf"
      var watcher = ResolvConfWatcher(path: path)
      #expect(watcher.check(now: start) == .unreadable("No such file or directory"))
      put("nameserver 10.0.0.1\n", to: path)
      // Not looked at again within a second.
      #expect(watcher.check(now: start + .milliseconds(999)) == nil)
      let reading = watcher.check(now: start + .seconds(1))
      #expect(
        reading == .read(ResolvConf(parsing: Array("nameserver 10.0.0.1\n".utf8)), cut: false))
      // Unchanged: nothing new.
      #expect(watcher.check(now: start + .seconds(3)) == nil)
    }
  }

  @Test func aFileReplacedByARenameOrRewrittenInPlaceIsReadAgain() throws {
    try inDirectory { directory in
      let path = directory + "/resolv.conf"
      put("nameserver 10.0.0.1\n", to: path)
      var watcher = ResolvConfWatcher(path: path)
      guard case .read(let first, _) = watcher.check(now: start) else {
        Issue.record("not read")
        return
      }
      #expect(first.ipv4NameServers == [IPv4Address(10, 0, 0, 1)])
      put("nameserver 10.0.0.2\n", to: directory + "/next")
      #expect(rename(directory + "/next", path) == 0)
      guard case .read(let second, _) = watcher.check(now: start + .seconds(1)) else {
        Issue.record("a renamed file was not read")
        return
      }
      #expect(second.ipv4NameServers == [IPv4Address(10, 0, 0, 2)])
      // Written in place (one byte longer: within one clock tick of the rename, a kernel
      // without fine-grained timestamps could give it the same modification time).
      put("nameserver 10.0.0.33\n", to: path)
      guard case .read(let third, _) = watcher.check(now: start + .seconds(2)) else {
        Issue.record("a file rewritten in place was not read")
        return
      }
      #expect(third.ipv4NameServers == [IPv4Address(10, 0, 0, 33)])
      // Emptied: no servers.
      put("", to: path)
      guard case .read(let empty, _) = watcher.check(now: start + .seconds(3)) else {
        Issue.record("an emptied file was not read")
        return
      }
      #expect(empty.nameServers.isEmpty)
    }
  }

  @Test func aFIFOAtThePathDoesNotBlockAndGivesNoServers() throws {
    try inDirectory { directory in
      let path = directory + "/fifo"
      #expect(mkfifo(path, 0o644) == 0)
      var watcher = ResolvConfWatcher(path: path)
      // Without O_NONBLOCK the open would wait for a writer for ever.
      #expect(watcher.check(now: start) == .unreadable("not a regular file"))
      var directoryWatcher = ResolvConfWatcher(path: directory)
      #expect(directoryWatcher.check(now: start) == .unreadable("not a regular file"))
    }
  }

  @Test func onlyTheFirst64KiBAreRead() throws {
    try inDirectory { directory in
      let path = directory + "/resolv.conf"
      let filler = String(
        repeating: "# padding padding padding padding padding padding padding\n", count: 1200)
      put("nameserver 10.0.0.1\n" + filler + "nameserver 10.0.0.2\n", to: path)
      var watcher = ResolvConfWatcher(path: path)
      guard case .read(let conf, let cut) = watcher.check(now: start) else {
        Issue.record("not read")
        return
      }
      #expect(cut && conf.ipv4NameServers == [IPv4Address(10, 0, 0, 1)])
    }
  }
}
