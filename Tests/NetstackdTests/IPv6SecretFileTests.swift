import Glibc
import Testing

@testable import netstackd

/// `--ip6-secret-file`: the RFC 7217 secret kept across runs, created (mode 0600) when
/// missing, refused with a message naming the option when the file holds anything else.
struct IPv6SecretFileTests {
  /// A fresh directory for one test's files.
  private func directory() -> String {
    var template = Array("/tmp/netstackd-secret-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    return path
  }

  private func contents(of path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: 128)
    guard fgets(&buffer, 128, file) != nil else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private func write(_ text: String, to path: String) {
    let file = fopen(path, "w")!
    fputs(text, file)
    fclose(file)
  }

  @Test func aMissingFileIsCreatedWithMode0600AndReadBackTheSame() throws {
    let path = directory() + "/secret"
    let created = try IPv6SecretFile.loadOrCreate(path: path)
    var information = stat()
    #expect(stat(path, &information) == 0)
    #expect(information.st_mode & 0o777 == 0o600)
    let text = try #require(contents(of: path))
    #expect(text.count == 33 && text.hasSuffix("\n"))
    #expect(text == IPv6SecretFile.text(created))
    let again = try IPv6SecretFile.loadOrCreate(path: path)
    #expect(again == created)
    #expect(created != (0, 0))
  }

  @Test func anExistingSecretIsTaken() throws {
    let path = directory() + "/secret"
    write("0123456789abcdefFEDCBA9876543210\n", to: path)
    let secret = try IPv6SecretFile.loadOrCreate(path: path)
    #expect(secret == (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210))
  }

  @Test(arguments: [
    "", "\n", "0123456789abcdef", "0123456789abcdef0123456789abcdeg\n",
    "0123456789abcdef0123456789abcdef0\n", "0123456789abcdef0123456789abcdef\n\n",
    " 0123456789abcdef0123456789abcdef",
  ])
  func aFileWithAnythingElseIsRefused(text: String) {
    let path = directory() + "/secret"
    write(text, to: path)
    #expect(throws: OptionError.self) { try IPv6SecretFile.loadOrCreate(path: path) }
    do {
      _ = try IPv6SecretFile.loadOrCreate(path: path)
    } catch {
      #expect(error.description.hasPrefix("--ip6-secret-file: '\(path)': "))
    }
  }

  @Test func aDirectoryOrAnUnwritablePlaceIsRefused() {
    let folder = directory()
    #expect(throws: OptionError.self) { try IPv6SecretFile.loadOrCreate(path: folder) }
    #expect(throws: OptionError.self) {
      try IPv6SecretFile.loadOrCreate(path: folder + "/missing/secret")
    }
  }

  @Test func theOptionTakesAPath() throws {
    let options = try DaemonOptions(arguments: ["--tap", "t", "--ip6-secret-file", "/var/lib/x"])
    #expect(options.ipv6SecretFile == "/var/lib/x")
    #expect(try DaemonOptions(arguments: ["--tap", "t"]).ipv6SecretFile == nil)
    #expect(throws: OptionError.self) {
      try DaemonOptions(arguments: ["--tap", "t", "--ip6-secret-file", ""])
    }
  }
}

extension IPv6SecretFileTests {
  @Test func theDerivedMACIsStableUnicastAndLocallyAdministered() {
    let mac = IPv6SecretFile.hardwareAddress(for: (1, 2))
    #expect(mac == IPv6SecretFile.hardwareAddress(for: (1, 2)))
    #expect(mac != IPv6SecretFile.hardwareAddress(for: (1, 3)))
    #expect(mac.rawValue >> 40 == 0x02)
  }
}
