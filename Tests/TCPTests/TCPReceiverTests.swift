import NetCore
import Testing

@testable import TCP

/// The receive side on its own (RFC 9293 §3.10.7.4 "first, check sequence number"; RFC 2018
/// §4): the four acceptability cases against the advertised window, and the SACK recency list.
/// (`TCPReceiver` is not copyable: values are read into locals before `#expect` looks at them.)
struct TCPReceiverTests {
  static let next = SequenceNumber(5000)

  /// A receiver expecting 5000 that advertised `window` bytes.
  func receiver(window: Int) -> TCPReceiver {
    var receiver = TCPReceiver(
      buffer: TCPReceiveBuffer(limit: 65535, budget: MemoryBudget()), now: .zero)
    receiver.next = Self.next
    receiver.advertisedWindowEdge = Self.next + window
    return receiver
  }

  @Test func theFourCasesOfTheSequenceCheck() {
    let open = receiver(window: 1000)
    let cases = (
      emptyInWindow: open.isAcceptable(sequence: Self.next + 999, length: 0),
      emptyPastWindow: open.isAcceptable(sequence: Self.next + 1000, length: 0),
      dataOverlappingLeft: open.isAcceptable(sequence: Self.next - 10, length: 20),
      dataOverlappingRight: open.isAcceptable(sequence: Self.next + 990, length: 20),
      dataWhollyOld: open.isAcceptable(sequence: Self.next - 20, length: 20)
    )
    #expect(cases.emptyInWindow && !cases.emptyPastWindow)
    #expect(cases.dataOverlappingLeft && cases.dataOverlappingRight && !cases.dataWhollyOld)
    let shut = receiver(window: 0)
    let zeroWindow = (
      emptyAtNext: shut.isAcceptable(sequence: Self.next, length: 0),
      emptyAfter: shut.isAcceptable(sequence: Self.next + 1, length: 0),
      data: shut.isAcceptable(sequence: Self.next, length: 1)
    )
    #expect(zeroWindow.emptyAtNext && !zeroWindow.emptyAfter && !zeroWindow.data)
  }

  @Test func theSACKRecencyListKeepsTheLatestFirst() {
    var receiver = receiver(window: 65535)
    for index in 0..<(TCPReceiver.sackRecencyDepth + 3) {
      receiver.noteOutOfOrder(at: Self.next + 1000 * (index + 1))
    }
    let recent = receiver.recentOutOfOrderSequences
    #expect(recent.count == TCPReceiver.sackRecencyDepth)
    #expect(recent.first == Self.next + 1000 * (TCPReceiver.sackRecencyDepth + 3))
    #expect(recent.last == Self.next + 4000)
  }
}
