import Foundation
import ShuffleNetEngine

/// Quoting for the machine-readable formats, written here rather than with a serialiser so that every row
/// is built in one string and written with one call (a row is either all there or torn at the end).
package enum BatchTextEscaping {
    /// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped.
    package static func json(_ text: String) -> String { jsonStringLiteral(text) }

    /// Shortest round-tripping decimal; JSON has no NaN or infinity, so those become `null`.
    package static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

    /// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote, CR or LF.
    package static func csv(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
