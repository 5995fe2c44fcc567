import DNS
import Testing

/// Every way a message can be malformed is a typed error, never a trap or a long walk.
struct DNSMessageMalformedTests {
  /// A header with the given counts (id 0x1234, a query), followed by `body`.
  private func message(
    questions: UInt16 = 0, answers: UInt16 = 0, authority: UInt16 = 0, additional: UInt16 = 0,
    _ body: [UInt8]
  ) -> [UInt8] {
    func pair(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    return [0x12, 0x34, 0x01, 0x00] + pair(questions) + pair(answers) + pair(authority)
      + pair(additional) + body
  }

  private func error(_ bytes: [UInt8]) -> DNSMessageError? {
    do {
      _ = try DNSMessage(checking: bytes.span)
      return nil
    } catch {
      return error
    }
  }

  /// The question `www.test A IN`, uncompressed.
  private let question: [UInt8] = [3, 0x77, 0x77, 0x77, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]

  @Test func shorterThanAHeader() {
    for length in 0..<12 {
      #expect(error([UInt8](repeating: 0, count: length)) == .truncatedHeader)
    }
    #expect(error([UInt8](repeating: 0, count: 12)) == nil)
  }

  @Test func countsThatCannotFitAreRefusedBeforeAnythingIsRead() {
    // 65,535 questions of at least 5 bytes each in 14 bytes.
    #expect(error(message(questions: 0xFFFF, question)) == .countsExceedMessage)
    #expect(error(message(questions: 3, question)) == .countsExceedMessage)
    // A record takes at least 11 bytes.
    #expect(error(message(questions: 1, answers: 1, question)) == .countsExceedMessage)
    #expect(
      error(message(answers: 0xFFFF, authority: 0xFFFF, additional: 0xFFFF, []))
        == .countsExceedMessage)
    // Exactly enough room for the counts, but the name runs on: a different error.
    #expect(error(message(questions: 2, question)) == .truncatedName)
  }

  @Test func truncatedNameQuestionAndRecord() {
    // A label that runs past the end.
    #expect(error(message(questions: 1, [5, 0x61, 0x62, 0, 0, 1])) == .truncatedName)
    // No type and class after the name.
    #expect(error(message(questions: 1, [1, 0x61, 0, 0, 1, 0])) == .truncatedQuestion)
    // A record's fixed fields cut short (owner "a", then 9 of the 10 bytes).
    #expect(
      error(message(answers: 1, [1, 0x61, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0])) == .truncatedRecord)
    // A whole record with no data is fine.
    #expect(error(message(answers: 1, [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])) == nil)
    // Data length past the end.
    #expect(
      error(message(answers: 1, [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0])) == .truncatedRecord)
    // A pointer's second byte missing.
    #expect(error(message(questions: 1, [1, 0x61, 1, 0x62, 0xC0])) == .truncatedName)
  }

  @Test func extendedLabelTypesAreRefused() {
    for first: UInt8 in [0x40, 0x41, 0x80, 0xBF] {
      #expect(error(message(questions: 1, [first, 0, 0, 0, 1, 0, 1])) == .unsupportedLabelType)
    }
  }

  @Test func pointersGoOnlyBackwards() {
    // The question "www.test", then an answer whose owner points forward (to its own data).
    let forward = message(
      questions: 1, answers: 1, question + [0xC0, 40, 0, 1, 0, 1, 0, 0, 0, 0, 0, 2, 0xC0, 12])
    #expect(error(forward) == .pointerNotBackwards)
    // At itself.
    let itself = message(
      questions: 1, answers: 1, question + [0xC0, 26, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    #expect(error(itself) == .pointerNotBackwards)
    // Into the header.
    #expect(error(message(questions: 1, [0xC0, 2, 0, 1, 0, 1])) == .pointerNotBackwards)
    // A loop: the answer's owner points back at a label that runs into that same pointer.
    let loop = message(
      questions: 1, answers: 1, question + [1, 0x61, 0xC0, 26, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    #expect(error(loop) == .pointerNotBackwards)
    // Backwards is fine: the owner is "a" + the question's name.
    let good = message(
      questions: 1, answers: 1, question + [1, 0x61, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    #expect(error(good) == nil)
  }

  /// A message whose second answer's owner name follows a chain of `pointers` pointers, each
  /// strictly before the last, laid out in the first answer's data.
  private func pointerChain(_ pointers: Int) -> [UInt8] {
    // The question is the root name (offset 12), type and class: 5 bytes; the first answer
    // (root owner, TXT) starts at 17, its data at 28.
    let dataStart = 28
    var data: [UInt8] = []
    for index in 0..<(pointers - 1) {
      let target = index == 0 ? 12 : dataStart + 2 * (index - 1)
      data += [0xC0 | UInt8(target >> 8), UInt8(target & 0xFF)]
    }
    let last = pointers == 1 ? 12 : dataStart + 2 * (pointers - 2)
    let first: [UInt8] = [
      0, 0, 16, 0, 1, 0, 0, 0, 0, UInt8(data.count >> 8), UInt8(data.count & 0xFF),
    ]
    let second: [UInt8] = [
      0xC0 | UInt8(last >> 8), UInt8(last & 0xFF), 0, 1, 0, 1, 0, 0, 0, 0, 0, 0,
    ]
    return message(questions: 1, answers: 2, [0, 0, 1, 0, 1] + first + data + second)
  }

  @Test func atMost32PointersPerName() throws {
    #expect(DNSName.maximumPointers == 32)
    let allowed = pointerChain(32)
    let message = try DNSMessage(checking: allowed.span)
    var names: [String] = []
    try message.forEachRecord { names.append($0.name.description) }
    #expect(names == [".", "."])
    #expect(error(pointerChain(33)) == .tooManyPointers)
  }

  @Test func namesAtMost255BytesLabelsAtMost63() throws {
    func label(_ length: Int) -> [UInt8] {
      [UInt8(length)] + [UInt8](repeating: 0x61, count: length)
    }
    // 3 x 64 + 62 + the root byte = 255 bytes: the longest name.
    let longest = label(63) + label(63) + label(63) + label(61) + [0]
    #expect(longest.count == 255)
    let accepted = message(questions: 1, longest + [0, 1, 0, 1])
    #expect(try DNSMessage(checking: accepted.span).question?.name.wire.count == 255)
    let tooLong = label(63) + label(63) + label(63) + label(62) + [0]
    #expect(error(message(questions: 1, tooLong + [0, 1, 0, 1])) == .nameTooLong)
    // Too long only once a pointer is followed: each part alone is short.
    let first = label(63) + label(63) + label(63) + label(61) + [0]  // at offset 12
    let compressed = message(
      questions: 2, first + [0, 1, 0, 1] + label(1) + [0xC0, 12, 0, 1, 0, 1])
    #expect(error(compressed) == .nameTooLong)
    // A length byte of 64 to 127 has the top bits 01: not a label.
    #expect(
      error(message(questions: 1, [64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]))
        == .unsupportedLabelType)
    #expect(throws: DNSMessageError.labelTooLong) {
      _ = try DNSName(labels: [[UInt8](repeating: 0x61, count: 64)])
    }
  }

  @Test func optRecordsOnlyOnceInTheAdditionalSectionOwnedByTheRoot() {
    let opt: [UInt8] = [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]
    #expect(error(message(questions: 1, additional: 1, question + opt)) == nil)
    #expect(error(message(questions: 1, additional: 2, question + opt + opt)) == .badOPTRecord)
    #expect(error(message(questions: 1, answers: 1, question + opt)) == .badOPTRecord)
    #expect(error(message(questions: 1, authority: 1, question + opt)) == .badOPTRecord)
    let named: [UInt8] = [1, 0x61, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]
    #expect(error(message(questions: 1, additional: 1, question + named)) == .badOPTRecord)
  }

  @Test func aLargeMessageOfRootNamesIsWalkedQuickly() throws {
    // 65,535 bytes of minimal records: the walk is linear in the bytes.
    let count = (65535 - 12) / 11
    var body: [UInt8] = []
    for _ in 0..<count { body += [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0] }
    let bytes = message(answers: UInt16(count), body)
    let parsed = try DNSMessage(checking: bytes.span)
    #expect(parsed.endOffset == bytes.count)
  }
}
