import Foundation
import Testing

/// Runs the built `shufflenet` executable, which SwiftPM puts next to the test bundle.
enum CLITestSupport {
    static let binary: String? = {
        if let explicit = ProcessInfo.processInfo.environment["SHUFFLENET_BINARY"] { return explicit }
        let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                          Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        return candidates.map { $0.appendingPathComponent("shufflenet").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let skip: Comment = "the shufflenet executable was not found next to the tests (build it: swift build, or set SHUFFLENET_BINARY)"

    struct Run {
        let status: Int32
        let stdout: Data
        let stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Starts the binary; stdout and stderr go to files so that nothing blocks on a full pipe.
    static func start(_ arguments: [String], stdin: Data? = nil, in directory: String) throws -> (Process, () throws -> Run) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(binary))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["SHUFFLENET_OFFLINE"] = "1"
        process.environment = environment
        let id = UUID().uuidString
        let outPath = directory + "/.stdout-\(id)", errPath = directory + "/.stderr-\(id)", inPath = directory + "/.stdin-\(id)"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        try process.run()
        return (process, {
            process.waitUntilExit()
            return Run(status: process.terminationStatus,
                       stdout: FileManager.default.contents(atPath: outPath) ?? Data(),
                       stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
        })
    }

    static func run(_ arguments: [String], stdin: Data? = nil, in directory: String) throws -> Run {
        try start(arguments, stdin: stdin, in: directory).1()
    }

    /// A strict RFC 4180 reader, written apart from the tool's own code, so that "CSV parses" is checked
    /// independently: quoted fields may hold commas, quotes (doubled) and newlines; a bare quote is an error.
    static func parseCSV(_ text: String) throws -> [[String]] {
        struct Malformed: Error {}
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false, afterQuote = false
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" { quoted = false; afterQuote = true } else { field.append(c) }
                continue
            }
            switch c {
            case "\"":
                if afterQuote { field.append("\""); quoted = true; afterQuote = false }
                else if field.isEmpty { quoted = true }
                else { throw Malformed() }
            case ",": row.append(field); field = ""; afterQuote = false
            case "\n": row.append(field); rows.append(row); row = []; field = ""; afterQuote = false
            default:
                if afterQuote { throw Malformed() }
                field.append(c)
            }
        }
        guard !quoted, field.isEmpty, row.isEmpty else { throw Malformed() }
        return rows
    }
}
