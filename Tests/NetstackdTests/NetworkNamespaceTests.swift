import CLinuxShims
import Glibc
import Testing

@testable import netstackd

/// `--netns PATH` (``NetworkNamespace``): only a network namespace file is taken, each other
/// path is one line naming the option; the work runs on a thread of its own inside the
/// namespace, and the calling thread never changes namespace.
struct NetworkNamespaceTests {
  /// The message opening `path` is refused with, or nil if it opens.
  private func refusal(_ path: String) -> String? {
    do {
      _ = try NetworkNamespace(path: path)
      return nil
    } catch {
      return error.description
    }
  }

  /// The network namespace the calling thread is in (`net:[INODE]`).
  private static func threadNamespace() -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let count = readlink("/proc/thread-self/ns/net", &buffer, buffer.count - 1)
    guard count > 0 else { return "unreadable" }
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  @Test func theOwnNamespaceOpens() throws {
    #expect(try NetworkNamespace(path: "/proc/self/ns/net").path == "/proc/self/ns/net")
  }

  @Test(arguments: [
    ("/nonexistent/netns", "--netns: '/nonexistent/netns' does not exist"),
    ("/proc/self/ns/uts", "--netns: '/proc/self/ns/uts' is not a network namespace"),
    ("/proc/self/ns/user", "--netns: '/proc/self/ns/user' is not a network namespace"),
    ("/proc/self/status", "--netns: '/proc/self/status' is not a network namespace"),
    ("/tmp", "--netns: '/tmp' is not a network namespace"),
    ("/dev/null", "--netns: '/dev/null' is not a network namespace"),
  ])
  func onlyANetworkNamespaceIsTaken(_ path: String, _ message: String) {
    #expect(refusal(path) == message)
  }

  /// With CAP_SYS_ADMIN (root, as the tests run) the body runs on another thread, inside the
  /// namespace, and the caller's thread is where it was; without it, the permission message
  /// and the body does not run.
  @Test func theBodyRunsOnAThreadOfItsOwn() throws {
    let namespace = try NetworkNamespace(path: "/proc/self/ns/net")
    let caller = pthread_self()
    let before = Self.threadNamespace()
    var ran = false
    var sameThread = true
    var inside = ""
    do {
      try namespace.run {
        ran = true
        sameThread = pthread_equal(pthread_self(), caller) != 0
        inside = Self.threadNamespace()
      }
      #expect(ran)
      #expect(!sameThread)
      #expect(inside == before)
    } catch {
      #expect(geteuid() != 0, "root could not enter its own namespace: \(error)")
      #expect(!ran)
      #expect(error.description.contains("permission denied"))
    }
    #expect(Self.threadNamespace() == before)
  }
}
