import ShuffleNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an interrupted run already wrote, for `--resume`: the paths of its complete rows (results and
/// errors alike, so a resumed run never writes a path twice) and where its last complete row ends.
///
/// Each row is written with one `write` call, so a SIGKILL leaves at most one torn row, at the very end:
/// the bytes after the last complete row (or a last row that does not parse) are cut off before
/// appending, never duplicated. A row that does not parse anywhere else means the file is not this tool's
/// output in this format (or with this `--top-k`, for CSV), and resuming stops with an error.
package struct ResumeLog: Sendable {
    package let completedPaths: Set<String>
    /// Bytes up to the end of the last complete row (the header counts as one, for CSV).
    package let validByteCount: Int
    /// Bytes of a torn last row, to cut off.
    package let tornByteCount: Int
    /// CSV only: the file has no complete header yet, so the run must write it.
    package let needsHeader: Bool

    /// Reads the output file of an earlier run; a missing file is an empty log (nothing done yet).
    package static func read(contentsOf path: String, encoder: BatchRecordEncoder) throws(BatchError) -> ResumeLog {
        guard encoder.format.isResumable else {
            throw .resumeMismatch(path: path, line: 1, reason: "\(encoder.format.rawValue) output cannot be resumed; use jsonl or csv")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT {
                return ResumeLog(completedPaths: [], validByteCount: 0, tornByteCount: 0, needsHeader: encoder.format == .csv)
            }
            throw .resumeUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var scanner = ResumeRowScanner(path: path, encoder: encoder)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { readChunk(descriptor, $0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw .resumeUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            for byte in chunk[0..<count] { try scanner.consume(byte) }
        }
        return scanner.finish()
    }

    init(completedPaths: Set<String>, validByteCount: Int, tornByteCount: Int, needsHeader: Bool) {
        self.completedPaths = completedPaths
        self.validByteCount = validByteCount
        self.tornByteCount = tornByteCount
        self.needsHeader = needsHeader
    }
}

/// `read(2)`, named apart from `ResumeLog.read`.
private func readChunk(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    read(descriptor, buffer.baseAddress, buffer.count)
}

/// Splits the file into rows (a newline ends a row, except inside a quoted CSV field) and takes each row's
/// path, keeping byte offsets so that a torn end can be cut off exactly.
struct ResumeRowScanner {
    let path: String
    let encoder: BatchRecordEncoder
    private var row: [UInt8] = []
    private var inQuotes = false
    private var offset = 0
    private var line = 1
    private var rowStartLine = 1
    private var rowsSeen = 0
    private var completed: Set<String> = []
    private var validEnd = 0
    /// A row that did not parse; fatal unless it turns out to be the last one (then it is torn).
    private var unparsed: (line: Int, start: Int, reason: String)?
    private var headerSeen = false

    init(path: String, encoder: BatchRecordEncoder) {
        self.path = path
        self.encoder = encoder
    }

    mutating func consume(_ byte: UInt8) throws(BatchError) {
        offset += 1
        if byte == UInt8(ascii: "\n") { line += 1 }
        if encoder.format == .csv, byte == UInt8(ascii: "\"") { inQuotes.toggle() }
        guard byte == UInt8(ascii: "\n"), !inQuotes else {
            row.append(byte)
            return
        }
        if let bad = unparsed {
            throw .resumeMismatch(path: path, line: bad.line, reason: bad.reason)
        }
        let start = offset - row.count - 1
        if row.last == UInt8(ascii: "\r") { row.removeLast() }
        do {
            try take(row)
            validEnd = offset
        } catch {
            unparsed = (rowStartLine, start, error.reason)
        }
        row.removeAll(keepingCapacity: true)
        rowStartLine = line
        rowsSeen += 1
    }

    func finish() -> ResumeLog {
        // Whatever follows the last complete, parsed row is the torn end of a killed run.
        let end = unparsed?.start ?? validEnd
        return ResumeLog(completedPaths: completed, validByteCount: end, tornByteCount: offset - end,
                         needsHeader: encoder.format == .csv && !headerSeen)
    }

    private mutating func take(_ bytes: [UInt8]) throws(ResumeRowProblem) {
        if encoder.format == .csv {
            if rowsSeen == 0 {
                guard bytes == Array(encoder.header.utf8.dropLast()) else {
                    throw ResumeRowProblem(reason: "the CSV header is not the one this --top-k writes (\(encoder.csvColumns.count) columns starting \"path,top1_index\")")
                }
                headerSeen = true
                return
            }
            completed.insert(try Self.firstCSVField(bytes))
        } else {
            completed.insert(try Self.jsonlPath(bytes))
        }
    }

    /// The first field of a CSV row, unquoted.
    static func firstCSVField(_ bytes: [UInt8]) throws(ResumeRowProblem) -> String {
        guard bytes.first == UInt8(ascii: "\"") else {
            let end = bytes.firstIndex(of: UInt8(ascii: ",")) ?? bytes.count
            guard end < bytes.count else { throw ResumeRowProblem(reason: "a CSV row with a single field") }
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        var field: [UInt8] = []
        var i = 1
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\"") {
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                    field.append(UInt8(ascii: "\""))
                    i += 2
                    continue
                }
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: ",") else {
                    throw ResumeRowProblem(reason: "a quoted CSV path not followed by a comma")
                }
                return String(decoding: field, as: UTF8.self)
            }
            field.append(bytes[i])
            i += 1
        }
        throw ResumeRowProblem(reason: "an unterminated quoted CSV field")
    }

    /// The path of a jsonl row as this tool writes it: `{"path":"...",...}`.
    static func jsonlPath(_ bytes: [UInt8]) throws(ResumeRowProblem) -> String {
        let prefix = Array("{\"path\":\"".utf8)
        guard bytes.starts(with: prefix), bytes.last == UInt8(ascii: "}") else {
            throw ResumeRowProblem(reason: "not a jsonl row of this tool (expected {\"path\": ...})")
        }
        var i = prefix.count
        var value: [UInt8] = []
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") { return String(decoding: value, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else {
                value.append(byte)
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { break }
            switch bytes[i + 1] {
            case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): value.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): value.append(0x08)
            case UInt8(ascii: "f"): value.append(0x0C)
            case UInt8(ascii: "n"): value.append(0x0A)
            case UInt8(ascii: "r"): value.append(0x0D)
            case UInt8(ascii: "t"): value.append(0x09)
            case UInt8(ascii: "u"):
                let (scalar, length) = try unicodeEscape(bytes, at: i)
                value.append(contentsOf: Array(String(Character(scalar)).utf8))
                i += length
                continue
            default: throw ResumeRowProblem(reason: "a bad escape in the path")
            }
            i += 2
        }
        throw ResumeRowProblem(reason: "an unterminated path string")
    }

    /// `\uXXXX`, or a `\uD8xx\uDCxx` surrogate pair; returns the scalar and the bytes consumed.
    private static func unicodeEscape(_ bytes: [UInt8], at i: Int) throws(ResumeRowProblem) -> (Unicode.Scalar, Int) {
        func hex(_ at: Int) -> UInt32? {
            guard at + 6 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
            return UInt32(String(decoding: bytes[(at + 2)..<(at + 6)], as: UTF8.self), radix: 16)
        }
        guard let high = hex(i) else { throw ResumeRowProblem(reason: "a bad \\u escape in the path") }
        if (0xD800..<0xDC00).contains(high), let low = hex(i + 6), (0xDC00..<0xE000).contains(low),
           let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
            return (scalar, 12)
        }
        guard let scalar = Unicode.Scalar(high) else { throw ResumeRowProblem(reason: "a lone surrogate in the path") }
        return (scalar, 6)
    }
}

struct ResumeRowProblem: Error {
    let reason: String
}
