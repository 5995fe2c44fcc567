import Glibc
import NetCore

/// The secret behind the stack's IPv6 interface identifiers (RFC 7217 §5's secret_key, which
/// Linux keeps in `net.ipv6.conf.*.stable_secret`), kept in a file (`--ip6-secret-file`) so
/// that the link-local and SLAAC addresses stay the same when the daemon restarts (without
/// it, each run draws a secret of its own and the addresses change).
///
/// The file holds 32 hexadecimal digits (128 bits) and a newline. A missing file is created
/// (`open` with `O_CREAT | O_EXCL`, mode 0600) with a secret from `getrandom`
/// (``Netstackd/entropy()``); an existing one must be a regular file holding exactly that,
/// else the daemon exits 2 naming the option.
enum IPv6SecretFile {
  static let option = "--ip6-secret-file"
  /// Bytes read from an existing file at most: the 32 digits, a newline and room to tell
  /// that there is more.
  static let readLimit = 64

  /// The MAC the daemon takes when `--ip6-secret-file` is given without `--mac`: locally
  /// administered, unicast, and the same for the same secret. A keyed hash of the secret,
  /// so that the MAC on the wire tells nothing of the secret itself.
  static func hardwareAddress(for secret: (UInt64, UInt64)) -> MACAddress {
    let hash = SipHash(key0: secret.0, key1: secret.1).hash(0x6d61_6320_6164_6472)  // "mac addr"
    return MACAddress(rawValue: 0x0200_0000_0000 | (hash & 0x00FF_FFFF_FFFF))
  }

  /// The secret in the file at `path`, created first if there is none.
  static func loadOrCreate(path: String) throws(OptionError) -> (UInt64, UInt64) {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
    if descriptor < 0 && errno == ENOENT { return try create(path: path) }
    guard descriptor >= 0 else { throw failure(path, "cannot open it (errno \(errno))") }
    defer { close(descriptor) }
    var information = stat()
    guard fstat(descriptor, &information) == 0, information.st_mode & 0o170000 == 0o100000 else {
      throw failure(path, "not a regular file")
    }
    var bytes = [UInt8](repeating: 0, count: readLimit)
    let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, readLimit) }
    guard count >= 0 else { throw failure(path, "cannot read it (errno \(errno))") }
    guard let secret = parse(Array(bytes[..<count])) else {
      throw failure(path, "it must hold 32 hexadecimal digits and a newline")
    }
    return secret
  }

  /// The secret of a file's bytes: 32 hexadecimal digits, then at most one newline.
  static func parse(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
    var digits = bytes[...]
    if digits.last == UInt8(ascii: "\n") { digits = digits.dropLast() }
    guard digits.count == 32 else { return nil }
    var words: [UInt64] = [0, 0]
    for (index, byte) in digits.enumerated() {
      guard let value = hexValue(byte) else { return nil }
      words[index / 16] = words[index / 16] << 4 | UInt64(value)
    }
    return (words[0], words[1])
  }

  /// The file's text for `secret`.
  static func text(_ secret: (UInt64, UInt64)) -> String {
    func hex(_ word: UInt64) -> String {
      let digits = String(word, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }
    return hex(secret.0) + hex(secret.1) + "\n"
  }

  private static func create(path: String) throws(OptionError) -> (UInt64, UInt64) {
    let secret = (Netstackd.entropy(), Netstackd.entropy())
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0o600)
    guard descriptor >= 0 else { throw failure(path, "cannot create it (errno \(errno))") }
    let bytes = Array(text(secret).utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    let closed = close(descriptor)
    guard written == bytes.count, closed == 0 else {
      unlink(path)
      throw failure(path, "cannot write it (errno \(errno))")
    }
    return secret
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }

  private static func failure(_ path: String, _ problem: String) -> OptionError {
    OptionError(option, "'\(path)': \(problem)")
  }
}
