import Applications
import CLinuxShims
import Glibc

/// The HTTP service's files from a directory (`--http-root`): regular files only, and never
/// anything outside the directory.
///
/// Every request path is resolved beneath the directory by the kernel (`openat2` with
/// `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, through `netstack_open_beneath`): a symbolic
/// link is followed only while it stays inside the directory, and one that leads out of it
/// (`etc -> /etc`, `x -> ../../secret`) is refused, as are `..`, `.`, NUL and backslash in the
/// request path. On a kernel without `openat2` (before Linux 5.6) no symbolic link is followed
/// at all. The file is opened non-blocking and checked with `fstat` before anything is sent:
/// a FIFO, socket, device or directory is not served (the HTTP service answers 404), and
/// opening a FIFO that has no writer does not wait for one, so the event loop never blocks.
final class DirectoryFiles {
  let root: String
  /// The directory, opened once (O_PATH): every path is resolved beneath this descriptor.
  private let rootDescriptor: Int32

  /// A directory that exists, or nil.
  init?(root: String) {
    let descriptor = netstack_open_directory(root)
    guard descriptor >= 0 else { return nil }
    rootDescriptor = descriptor
    self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
  }

  deinit { close(rootDescriptor) }

  func file(at path: String) -> OpenFile? {
    guard path.hasPrefix("/"), !path.contains("\0"), !path.contains("\\") else { return nil }
    let segments = path.split(separator: "/")
    guard !segments.isEmpty, !segments.contains(where: { $0 == ".." || $0 == "." }) else {
      return nil
    }
    let descriptor = netstack_open_beneath(
      rootDescriptor, segments.joined(separator: "/"), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    return OpenFile(descriptor: descriptor)
  }

  /// The files as the HTTP service takes them.
  var httpFiles: HTTPFiles {
    HTTPFiles { path in
      guard let file = self.file(at: path) else { return nil }
      return HTTPFile(size: file.size) { offset, buffer in
        max(pread(file.descriptor, buffer.baseAddress, buffer.count, off_t(offset)), 0)
      }
    }
  }

  /// An open regular file; closed when released.
  final class OpenFile {
    let descriptor: Int32
    let size: Int

    /// Takes `descriptor` (and closes it unless it is a regular file).
    init?(descriptor: Int32) {
      var info = stat()
      guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        close(descriptor)
        return nil
      }
      self.descriptor = descriptor
      size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    func read(offset: Int, into buffer: inout [UInt8]) -> Int {
      let count = buffer.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress, $0.count, off_t(offset))
      }
      return max(count, 0)
    }
  }
}
