import DNS

/// What a test needs to know of a message, parsed (an escapable copy of the view's fields).
struct ParsedMessage {
  var header: DNSHeader
  var questions: [DNSQuestion]
  var edns: DNSEDNS?
  var question: DNSQuestion? { questions.first }
}

/// Parses `bytes` as a message.
func parse(_ bytes: [UInt8]) throws(DNSMessageError) -> ParsedMessage {
  let message = try DNSMessage(checking: bytes.span)
  return ParsedMessage(header: message.header, questions: message.questions, edns: message.edns)
}
