import Applications
import NetCore
import Testing

/// The one list of default services netstackd and the unikernel both serve.
struct ServiceKindTests {
  @Test func theDefaultsAreEveryServiceOnItsUsualPort() {
    let defaults = ServiceKind.defaults.map { "\($0.kind.rawValue):\($0.port)" }
    #expect(defaults == ["http:80", "echo:7", "discard:9", "chargen:19"])
    #expect(ServiceKind.describe(ServiceKind.defaults) == "http:80,echo:7,discard:9,chargen:19")
    #expect(ServiceKind.describe([]) == "none")
  }

  /// Echo answers over UDP too (RFC 862), on the port it was given; the others are TCP only.
  @Test func onlyEchoHasAUDPSide() {
    for kind in ServiceKind.allCases {
      let udp = kind.udpService(port: 7007)
      #expect((udp != nil) == (kind == .echo), "\(kind)")
      #expect(udp.map(\.port) == (kind == .echo ? 7007 : nil))
    }
  }

  /// Each name makes its own TCP service; only HTTP asks for the server.
  @Test func theTCPSideOfEachService() {
    var serversMade = 0
    let budget = MemoryBudget()
    for kind in ServiceKind.allCases {
      let service = kind.tcpService {
        serversMade += 1
        return HTTPServer(platform: "a test", budget: budget)
      }
      #expect(service.name == kind.rawValue)
    }
    #expect(serversMade == 1)
  }
}
