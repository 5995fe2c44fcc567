import Testing

@testable import TCP

/// Sequence numbers compare modulo 2^32 (RFC 9293 §3.4): by the sign of the 32-bit
/// difference, so that the order holds across the wrap.
struct SequenceNumberTests {
  typealias S = SequenceNumber

  @Test(arguments: [
    (UInt32(0), UInt32(1)), (1000, 2000), (0xFFFF_FFFF, 0), (0xFFFF_FF00, 0x100),
    (0x7FFF_FFFF, 0x8000_0000), (0x8000_0000, 0xFFFF_FFFF), (0, 0x7FFF_FFFF),
  ])
  func orderAcrossTheWrap(earlier: UInt32, later: UInt32) {
    #expect(S(earlier) < S(later))
    #expect(!(S(later) < S(earlier)))
    #expect(S(later) > S(earlier))
    #expect(S(earlier) <= S(later))
    #expect(S(later) - S(earlier) > 0)
    #expect(S(earlier) - S(later) < 0)
  }

  @Test func arithmeticWraps() {
    #expect(S(0xFFFF_FFFF) + 1 == S(0))
    #expect(S(0xFFFF_FFF0) + 0x20 == S(0x10))
    #expect(S(5) - 10 == S(0xFFFF_FFFB))
    #expect(S(0x10) - S(0xFFFF_FFF0) == 0x20)
    #expect(S(0xFFFF_FFF0) - S(0x10) == -0x20)
    var s = S(0xFFFF_FFFF)
    s += 2
    #expect(s == S(1))
    // Negative offsets move backwards.
    #expect(S(3) + (-5) == S(0xFFFF_FFFE))
  }

  @Test func windowMembershipAcrossTheWrap() {
    let start = S(0xFFFF_FF00)
    #expect(start.isInWindow(start: start, length: 0x200))
    #expect(S(0xFFFF_FFFF).isInWindow(start: start, length: 0x200))
    #expect(S(0).isInWindow(start: start, length: 0x200))
    #expect(S(0xFF).isInWindow(start: start, length: 0x200))
    #expect(!S(0x100).isInWindow(start: start, length: 0x200))  // one past the end
    #expect(!S(0xFFFF_FEFF).isInWindow(start: start, length: 0x200))  // one before
    #expect(!start.isInWindow(start: start, length: 0))  // an empty window holds nothing
  }

  @Test func halfTheSpaceApartIsTheLimit() {
    // 2^31 apart, the sign flips: the order is only meaningful within a window.
    #expect(S(0) < S(0x7FFF_FFFF))
    #expect(S(0x8000_0000) < S(0))
    #expect(S(0) - S(0x8000_0000) == Int(Int32.min))
  }

  @Test func description() {
    #expect("\(S(4_294_967_295))" == "4294967295")
  }
}
