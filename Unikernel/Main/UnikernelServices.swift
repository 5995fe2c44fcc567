import TCP

/// The services the unikernel runs (HTTP on port 80, echo on port 7), stepped by the main
/// loop after every batch of frames and timers; ICMP echo is the stack's own.
public struct UnikernelServices {
  var http: HTTPServer
  var echo: EchoServer
  /// Where received bytes are read into before a service takes them.
  let scratch: UnsafeMutableRawBufferPointer

  public init(tcp: inout TCPLayer, platform: String) throws(TCPError) {
    http = try HTTPServer(tcp: &tcp, platform: platform)
    echo = try EchoServer(tcp: &tcp)
    scratch = .allocate(byteCount: 16 * 1024, alignment: 16)
  }

  /// Accepts, reads and writes on every service's connections.
  public mutating func run(_ tcp: inout TCPLayer) {
    http.run(&tcp, scratch: scratch)
    echo.run(&tcp, scratch: scratch)
  }
}
