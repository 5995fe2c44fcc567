import NetCore
import Testing

@testable import TCP

/// The sender's scoreboard of RFC 6675 §3 as the standalone `SACKScoreboard` keeps it:
/// SACKed ranges merged and clipped to [SND.UNA, SND.MAX], forgotten below SND.UNA, IsLost
/// (§4) and the next hole to fill.
struct SACKScoreboardTests {
  static let una = SequenceNumber(1_000_000)
  static let mss = 1000

  func s(_ offset: Int) -> SequenceNumber { Self.una + offset }
  func block(_ from: Int, _ to: Int) -> SACKBlock { SACKBlock(left: s(from), right: s(to)) }

  func board(_ blocks: [SACKBlock], sent: Int = 10_000) -> SACKScoreboard {
    var board = SACKScoreboard()
    board.add(blocks, unacknowledged: Self.una, sent: s(sent))
    return board
  }

  @Test func blocksMergeAndStaySorted() {
    var board = board([block(5000, 6000), block(1000, 2000)])
    #expect(board.blocks == [block(1000, 2000), block(5000, 6000)])
    board.add([block(2000, 3000)], unacknowledged: Self.una, sent: s(10_000))  // touches
    #expect(board.blocks == [block(1000, 3000), block(5000, 6000)])
    board.add([block(2500, 5500)], unacknowledged: Self.una, sent: s(10_000))  // bridges
    #expect(board.blocks == [block(1000, 6000)])
    #expect(board.sackedBytes == 5000)
    #expect(board.highestSacked == s(6000))
  }

  @Test func blocksOutsideWhatIsOutstandingAreIgnoredOrClipped() {
    let board = board([
      block(-2000, -1000),  // below SND.UNA (a D-SACK): ignored
      block(-500, 500),  // straddles SND.UNA: clipped
      block(9000, 11_000),  // beyond SND.MAX: ignored
      block(3000, 3000),  // empty: ignored
      block(4000, 3000),  // inverted: ignored
    ])
    #expect(board.blocks == [block(0, 500)])
  }

  @Test func acknowledgmentForgetsWhatIsBelowIt() {
    var board = board([block(1000, 2000), block(3000, 4000)])
    board.acknowledge(upTo: s(1500))
    #expect(board.blocks == [block(1500, 2000), block(3000, 4000)])
    board.acknowledge(upTo: s(4000))
    #expect(board.isEmpty)
    var cleared = self.board([block(1000, 2000)])
    cleared.clear()
    #expect(cleared.isEmpty)
  }

  @Test func isLostNeedsMoreThanTwoSegmentsOrThreeRanges() {
    // §4 IsLost(SeqNum): DupThresh (3) discontiguous SACKed ranges above it, or more than
    // (DupThresh − 1) × SMSS bytes SACKed above it.
    #expect(!board([block(1000, 3000)]).isLost(s(0), maximumSegmentSize: Self.mss))
    #expect(board([block(1000, 3001)]).isLost(s(0), maximumSegmentSize: Self.mss))
    let ranges = board([block(1000, 1100), block(2000, 2100), block(3000, 3100)])
    #expect(ranges.isLost(s(0), maximumSegmentSize: Self.mss))
    #expect(!ranges.isLost(s(1500), maximumSegmentSize: Self.mss))
    #expect(ranges.sackedBytes(above: s(1500)) == 200)
  }

  @Test func nextHoleSkipsWhatIsSacked() {
    let board = board([block(1000, 2000), block(3000, 4000)])
    #expect(board.nextHole(from: s(0), before: s(4000))! == (s(0), 1000))
    #expect(board.nextHole(from: s(500), before: s(4000))! == (s(500), 500))
    #expect(board.nextHole(from: s(1000), before: s(4000))! == (s(2000), 1000))
    #expect(board.nextHole(from: s(2500), before: s(4000))! == (s(2500), 500))
    #expect(board.nextHole(from: s(3000), before: s(4000)) == nil)
    #expect(board.nextHole(from: s(3000), before: s(5000))! == (s(4000), 1000))
    #expect(board.isSacked(s(1500)) && !board.isSacked(s(2000)))
  }

  @Test func rangesAreBounded() {
    var board = SACKScoreboard()
    for index in 0..<100 {
      board.add(
        [block(100 * index + 50, 100 * index + 60)], unacknowledged: Self.una, sent: s(100_000))
    }
    #expect(board.blocks.count == SACKScoreboard.maximumBlocks)
  }
}
