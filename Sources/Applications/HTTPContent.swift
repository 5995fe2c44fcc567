/// What netstack's HTTP servers send, in one place for both of them: the daemon's
/// `HTTPService` (async, over the application API) and the unikernel's polled server
/// (`Unikernel/Main/HTTPServer.swift`). Standard library only, so that it builds as Embedded
/// Swift. Keeping one copy keeps a download's checksum the same from either.
public enum HTTPContent {
  /// The page at `/`, naming what the stack runs on (e.g. "a Swift unikernel on Xen").
  public static func page(for stack: String) -> [UInt8] {
    Array(
      """
      <!DOCTYPE html>
      <html><head><title>netstack</title></head>
      <body><h1>netstack</h1>
      <p>This page was served by netstack, a TCP/IP stack written in Swift, running on \(stack).</p>
      <p>Try <a href="/bytes/1048576">/bytes/1048576</a> for a megabyte.</p>
      </body></html>

      """.utf8)
  }

  /// What `/bytes/N` sends: a recognisable line repeated to 256 KiB, from the start again for
  /// longer responses.
  public static func pattern() -> [UInt8] {
    let line = Array(
      "netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz\n".utf8)
    let size = 256 * 1024
    var bytes: [UInt8] = []
    // Room for the last line too, so that the array is not grown (and its old copy freed) on
    // the way: one 256 KiB allocation, not 320 KiB after a 160 KiB one.
    bytes.reserveCapacity(size + line.count)
    while bytes.count < size { bytes.append(contentsOf: line) }
    return bytes
  }
}
