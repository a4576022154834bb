import Foundation

/// Streams the files to classify from files, directories and stdin lists, in a deterministic order: the
/// sources in the order given; inside a directory, entries in natural order (`InputNaturalOrder`), each
/// subdirectory's files at the place of its name (depth first), so the order never depends on the file
/// system or on concurrency.
///
/// Rules (the README's "classify" section):
/// - a file named on the command line is classified whatever its name or type of content;
/// - a directory yields its files named like images (`InputFilter`), and with `recursive` those of its
///   subdirectories too; a subdirectory named like an image (`shots.jpg/`) is a directory, never a row;
/// - each entry of a stdin list is an explicit input, like an argument: a file is a row whatever its name
///   (an error row unless its content is JPEG or PNG), a directory expands as an argument does, a missing
///   path is an error row. Only empty entries are skipped, and counted (`emptyLinesSkipped`) so that the
///   summary still adds up to the entries given. One difference: a FIFO, socket or device on stdin is an
///   error row, because a listing such as `find` output may hold one and opening it would block the run;
/// - something known to be bad before reading (unlistable directory, FIFO named like an image) is an item
///   with a `problem`, so it shows up as an error row instead of disappearing.
///
/// Not thread-safe: one thread calls `next()`; `emptyLinesSkipped` may be read from any thread.
package final class InputWalker: @unchecked Sendable {
    private struct Frame {
        let directory: String
        let relative: String
        let entries: [InputDirectoryListing.Entry]
        var position = 0
    }

    package let sources: [InputSource]
    package let recursive: Bool
    package let filter: InputFilter
    private let standardInputDescriptor: Int32
    private var sourceIndex = 0
    private var stack: [Frame] = []
    private var standardInput: InputLineReader?
    private let emptyLineLock = NSLock()
    private var emptyLines = 0

    package init(sources: [InputSource], recursive: Bool, filter: InputFilter, standardInputDescriptor: Int32 = 0) {
        self.sources = sources
        self.recursive = recursive
        self.filter = filter
        self.standardInputDescriptor = standardInputDescriptor
    }

    /// True when no source reads stdin, so the walk can be repeated (e.g. to count files for a progress bar).
    package var isRepeatable: Bool {
        !sources.contains { if case .standardInput = $0 { true } else { false } }
    }

    /// The next file, or nil when every source is exhausted.
    package func next() -> InputItem? {
        while true {
            if let item = nextFromDirectories() { return item }
            if let reader = standardInput {
                switch nextEntry(reader) {
                case .path(let given):
                    if let item = explicitInput(given, listedOnStandardInput: true) { return item }
                case .unreadable(let item):
                    // A read error repeats (stdin is a directory, EIO): stop reading rather than loop on it.
                    standardInput = nil
                    return item
                case .end:
                    standardInput = nil
                }
                continue
            }
            guard sourceIndex < sources.count else { return nil }
            let source = sources[sourceIndex]
            sourceIndex += 1
            switch source {
            case .standardInput(let separator):
                standardInput = InputLineReader(descriptor: standardInputDescriptor, separator: separator)
            case .path(let given):
                if let item = explicitInput(given, listedOnStandardInput: false) { return item }
            }
        }
    }

    /// Empty entries of the stdin list passed over so far (the summary reports them so that its counts add
    /// up to the entries given).
    package var emptyLinesSkipped: Int {
        emptyLineLock.lock()
        defer { emptyLineLock.unlock() }
        return emptyLines
    }

    /// An argument or stdin entry: a directory is opened (nil, its files follow; or an error item when it
    /// cannot be listed), anything else is an item as given.
    private func explicitInput(_ given: String, listedOnStandardInput: Bool) -> InputItem? {
        let directory = Self.withoutTrailingSlashes(given)
        switch InputDirectoryListing.typeFollowing(directory) {
        case InputDirectoryListing.directoryType:
            return enter(directory, relative: "")
        case InputDirectoryListing.regularFileType, InputDirectoryListing.unknownType:
            return InputItem(path: given)  // unknown: missing or unreadable, reported on open
        default:
            // On the command line a FIFO is deliberate (`<(curl ...)`); in a listing it would block the run.
            return listedOnStandardInput ? InputItem(path: given, problem: "not a regular file (FIFO, socket or device)") : InputItem(path: given)
        }
    }

    /// The next entry of the innermost open directory (descending into subdirectories), or nil when the
    /// innermost directory is exhausted or none is open.
    private func nextFromDirectories() -> InputItem? {
        while let top = stack.indices.last {
            guard stack[top].position < stack[top].entries.count else {
                stack.removeLast()
                continue
            }
            let frame = stack[top]
            let entry = frame.entries[frame.position]
            stack[top].position += 1
            let path = Self.join(frame.directory, entry.name)
            let relative = frame.relative.isEmpty ? entry.name : frame.relative + "/" + entry.name
            switch entry.kind {
            case .file:
                return InputItem(path: path, shardKey: relative)
            case .notRegularFile:
                return InputItem(path: path, shardKey: relative, problem: "not a regular file (FIFO, socket or device)")
            case .undecodableName:
                return InputItem(path: path, shardKey: relative, problem: "the name is not valid UTF-8; rename it to classify it")
            case .directory:
                if let problem = enter(path, relative: relative) { return problem }
            }
        }
        return nil
    }

    /// Opens a directory level; a directory that cannot be listed becomes an error item.
    private func enter(_ directory: String, relative: String) -> InputItem? {
        do {
            let entries = try InputDirectoryListing.list(directory, filter: filter, includeDirectories: recursive)
            stack.append(Frame(directory: directory, relative: relative, entries: entries))
            return nil
        } catch {
            return InputItem(path: directory, shardKey: relative.isEmpty ? directory : relative,
                             problem: "cannot list directory (\(error))")
        }
    }

    private enum StandardInputEntry {
        case path(String)
        case unreadable(InputItem)
        case end
    }

    /// The next non-empty entry of the stdin list, counting the empty ones passed over.
    private func nextEntry(_ reader: InputLineReader) -> StandardInputEntry {
        do {
            while let line = try reader.next() {
                if !line.isEmpty { return .path(line) }
                emptyLineLock.lock()
                emptyLines += 1
                emptyLineLock.unlock()
            }
            return .end
        } catch {
            return .unreadable(InputItem(path: "<stdin>", problem: "\(error)"))
        }
    }

    /// `dir/` and `dir` must give the same paths, or `--resume` would not recognise finished rows.
    static func withoutTrailingSlashes(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
