import CLinuxShims
import Glibc
import Testing

@testable import netstackd

/// `--http-root`: nothing outside the directory is ever served, only regular files, and a
/// FIFO never blocks. The tree (in a fresh directory under /tmp):
///
///     outside.txt                 beside the root, not in it
///     root/file.txt
///     root/sub/inner.txt
///     root/inside-link  -> sub/inner.txt      stays inside: followed (openat2)
///     root/sub-link     -> sub                stays inside: followed (openat2)
///     root/etc-link     -> /etc               leaves: refused
///     root/passwd-link  -> /etc/passwd        leaves: refused
///     root/escape       -> ../outside.txt     leaves: refused
///     root/fifo                               a FIFO with no writer
///     root/socket                             a Unix socket
///     root/dir/                               a directory
@Suite(.serialized, .timeLimit(.minutes(1)))
final class DirectoryFilesTests {
  let base: String
  let root: String

  init() throws {
    var template = Array("/tmp/netstack-http-root-test.XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw Failure("mkdtemp") }
    base = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    root = base + "/root"
    try Self.check(mkdir(root, 0o755), "mkdir root")
    try Self.write(base + "/outside.txt", "outside the root\n")
    try Self.write(root + "/file.txt", "a file in the root\n")
    try Self.check(mkdir(root + "/sub", 0o755), "mkdir sub")
    try Self.write(root + "/sub/inner.txt", "inner\n")
    try Self.check(symlink("sub/inner.txt", root + "/inside-link"), "symlink inside-link")
    try Self.check(symlink("sub", root + "/sub-link"), "symlink sub-link")
    try Self.check(symlink("/etc", root + "/etc-link"), "symlink etc-link")
    try Self.check(symlink("/etc/passwd", root + "/passwd-link"), "symlink passwd-link")
    try Self.check(symlink("../outside.txt", root + "/escape"), "symlink escape")
    try Self.check(mkfifo(root + "/fifo", 0o644), "mkfifo")
    try Self.check(mkdir(root + "/dir", 0o755), "mkdir dir")
    let socketDescriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let path = Array((root + "/socket").utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for index in 0..<path.count { raw[index] = path[index] }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    close(socketDescriptor)
    try Self.check(bound, "bind socket")
  }

  deinit {
    for name in [
      "file.txt", "sub/inner.txt", "inside-link", "sub-link", "etc-link", "passwd-link", "escape",
      "fifo", "socket",
    ] {
      unlink(root + "/" + name)
    }
    rmdir(root + "/sub")
    rmdir(root + "/dir")
    rmdir(root)
    unlink(base + "/outside.txt")
    rmdir(base)
  }

  struct Failure: Error {
    let what: String
    init(_ what: String) { self.what = what }
  }

  static func check(_ result: Int32, _ what: String) throws {
    guard result == 0 else { throw Failure("\(what): \(String(cString: strerror(errno)))") }
  }

  static func write(_ path: String, _ text: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw Failure("create \(path)") }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
  }

  /// The contents the file source serves for `path`, or nil.
  func served(_ path: String) throws -> String? {
    let files = try #require(DirectoryFiles(root: root))
    guard let file = files.file(at: path) else { return nil }
    var buffer = [UInt8](repeating: 0, count: file.size)
    let count = file.read(offset: 0, into: &buffer)
    return String(decoding: buffer[0..<count], as: UTF8.self)
  }

  @Test func regularFilesAreServed() throws {
    #expect(try served("/file.txt") == "a file in the root\n")
    #expect(try served("/sub/inner.txt") == "inner\n")
    #expect(try served("//sub///inner.txt") == "inner\n")
  }

  @Test func linksThatStayInsideAreFollowed() throws {
    #expect(try served("/inside-link") == "inner\n")
    #expect(try served("/sub-link/inner.txt") == "inner\n")
  }

  @Test func nothingOutsideTheRootIsServed() throws {
    #expect(try served("/etc-link/passwd") == nil)
    #expect(try served("/etc-link/hostname") == nil)
    #expect(try served("/passwd-link") == nil)
    #expect(try served("/escape") == nil)
    #expect(try served("/../outside.txt") == nil)
    #expect(try served("/sub/../../outside.txt") == nil)
    #expect(try served("/%2e%2e/outside.txt") == nil)
    #expect(try served("/%2E%2E/%2E%2E/etc/passwd") == nil)
    #expect(try served("/..%2foutside.txt") == nil)
    #expect(try served("/sub\\..\\..\\outside.txt") == nil)
    #expect(try served("/file.txt\0") == nil)
  }

  @Test func onlyRegularFilesAreServed() throws {
    let started = MonotonicClockForTests.now()
    #expect(try served("/fifo") == nil)
    #expect(MonotonicClockForTests.now() - started < 5, "opening the FIFO waited for a writer")
    #expect(try served("/socket") == nil)
    #expect(try served("/dir") == nil)
    #expect(try served("/") == nil)
    #expect(try served("/missing") == nil)
  }

  @Test func aRootThatIsNotADirectoryIsRefused() {
    #expect(DirectoryFiles(root: root + "/file.txt") == nil)
    #expect(DirectoryFiles(root: base + "/missing") == nil)
  }

  /// The fallback for kernels without openat2 follows no symbolic link at all.
  @Test func theWalkingFallbackFollowsNoLink() throws {
    let directory = netstack_open_directory(root)
    #expect(directory >= 0)
    defer { close(directory) }
    func open(_ path: String) -> Int32 {
      let result = netstack_open_beneath_walking(directory, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
      if result >= 0 { close(result) }
      return result
    }
    #expect(open("file.txt") >= 0)
    #expect(open("sub/inner.txt") >= 0)
    #expect(open("./sub/./inner.txt") >= 0)
    #expect(open("inside-link") == -ELOOP)
    #expect(open("sub-link/inner.txt") == -ENOTDIR)
    #expect(open("etc-link/passwd") == -ENOTDIR)
    #expect(open("passwd-link") == -ELOOP)
    #expect(open("escape") == -ELOOP)
    #expect(open("../outside.txt") == -EXDEV)
    #expect(open("sub/../../outside.txt") == -EXDEV)
    #expect(open("/etc/passwd") == -EXDEV)
    #expect(open("") == -EISDIR)
    #expect(open("missing") == -ENOENT)
  }

  /// openat2 itself: what leaves the root is refused by the kernel.
  @Test func openat2RefusesWhatLeavesTheRoot() {
    let directory = netstack_open_directory(root)
    #expect(directory >= 0)
    defer { close(directory) }
    func open(_ path: String) -> Int32 {
      let result = netstack_open_beneath(directory, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
      if result >= 0 { close(result) }
      return result
    }
    #expect(open("file.txt") >= 0)
    #expect(open("inside-link") >= 0)
    #expect(open("sub/../file.txt") >= 0)
    #expect(open("etc-link/passwd") == -EXDEV)
    #expect(open("passwd-link") == -EXDEV)
    #expect(open("escape") == -EXDEV)
    #expect(open("../outside.txt") == -EXDEV)
    #expect(open("/etc/passwd") == -EXDEV)
  }
}

/// Seconds on CLOCK_MONOTONIC.
enum MonotonicClockForTests {
  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
