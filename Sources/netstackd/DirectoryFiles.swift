import Applications
import Glibc

/// The HTTP service's files from a directory (`--http-root`): regular files only, and
/// never outside the directory (no `..`, no NUL, no backslash in a request path).
struct DirectoryFiles {
  let root: String

  /// A directory that exists, or nil.
  init?(root: String) {
    var info = stat()
    guard stat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { return nil }
    self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
  }

  func file(at path: String) -> OpenFile? {
    guard path.hasPrefix("/"), !path.contains("\0"), !path.contains("\\") else { return nil }
    let segments = path.split(separator: "/")
    guard !segments.isEmpty, !segments.contains(where: { $0 == ".." || $0 == "." }) else {
      return nil
    }
    return OpenFile(path: root + "/" + segments.joined(separator: "/"))
  }

  /// The files as the HTTP service takes them.
  var httpFiles: HTTPFiles {
    HTTPFiles { path in
      guard let file = file(at: path) else { return nil }
      return HTTPFile(size: file.size) { offset, buffer in
        max(pread(file.descriptor, buffer.baseAddress, buffer.count, off_t(offset)), 0)
      }
    }
  }

  /// An open regular file; closed when released.
  final class OpenFile {
    let descriptor: Int32
    let size: Int

    init?(path: String) {
      let descriptor = open(path, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { return nil }
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
