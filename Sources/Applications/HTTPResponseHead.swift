/// The head of an HTTP/1.1 response (RFC 9112 §4 status line, §5 fields), written as bytes.
public enum HTTPResponseHead {
  /// `HTTP/1.1 STATUS REASON`, `Server`, `Content-Length`, `Content-Type` if given, any extra
  /// fields (each ending in CR LF), `Connection: close` if the connection closes after it, and
  /// the empty line.
  public static func encode(
    status: Int, contentLength: Int, contentType: String?, extraFields: String? = nil,
    close: Bool
  ) -> [UInt8] {
    var text =
      "HTTP/1.1 \(status) \(reason(status))\r\nServer: netstack\r\nContent-Length: \(contentLength)\r\n"
    if let contentType { text += "Content-Type: \(contentType)\r\n" }
    if let extraFields { text += extraFields }
    if close { text += "Connection: close\r\n" }
    text += "\r\n"
    return Array(text.utf8)
  }

  /// The reason phrase of a status (RFC 9110 §15).
  public static func reason(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 400: "Bad Request"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 431: "Request Header Fields Too Large"
    case 501: "Not Implemented"
    case 503: "Service Unavailable"
    case 505: "HTTP Version Not Supported"
    default: "Error"
    }
  }
}
