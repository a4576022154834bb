/// Streams the files to classify from files, directories and stdin lists, in a deterministic order: the
/// sources in the order given; inside a directory, entries in natural order (`InputNaturalOrder`), each
/// subdirectory's files at the place of its name (depth first), so the order never depends on the file
/// system or on concurrency.
///
/// Rules (the README's "Inputs" section):
/// - a file named on the command line is classified whatever its name or type of content;
/// - a directory yields its files named like images (`InputFilter`), and with `recursive` those of its
///   subdirectories too; a subdirectory named like an image (`shots.jpg/`) is a directory, never a row;
/// - stdin lines are treated like directory entries: names without an image extension and directories are
///   skipped, so `find DIR | shufflenet classify -` yields what `shufflenet classify -r DIR` does;
/// - something known to be bad before reading (unlistable directory, FIFO named like an image) is an item
///   with a `problem`, so it shows up as an error row instead of disappearing.
///
/// Not thread-safe: one thread calls `next()`.
public final class InputWalker: @unchecked Sendable {
    private struct Frame {
        let directory: String
        let relative: String
        let entries: [InputDirectoryListing.Entry]
        var position = 0
    }

    public let sources: [InputSource]
    public let recursive: Bool
    public let filter: InputFilter
    private let standardInputDescriptor: Int32
    private var sourceIndex = 0
    private var stack: [Frame] = []
    private var standardInput: InputLineReader?

    public init(sources: [InputSource], recursive: Bool, filter: InputFilter, standardInputDescriptor: Int32 = 0) {
        self.sources = sources
        self.recursive = recursive
        self.filter = filter
        self.standardInputDescriptor = standardInputDescriptor
    }

    /// True when no source reads stdin, so the walk can be repeated (e.g. to count files for a progress bar).
    public var isRepeatable: Bool {
        !sources.contains { if case .standardInput = $0 { true } else { false } }
    }

    /// The next file, or nil when every source is exhausted.
    public func next() -> InputItem? {
        while true {
            if let item = nextFromDirectories() { return item }
            if let reader = standardInput {
                if let item = nextFromStandardInput(reader) { return item }
                standardInput = nil
                continue
            }
            guard sourceIndex < sources.count else { return nil }
            let source = sources[sourceIndex]
            sourceIndex += 1
            switch source {
            case .standardInput(let separator):
                standardInput = InputLineReader(descriptor: standardInputDescriptor, separator: separator)
            case .path(let given):
                let directory = Self.withoutTrailingSlashes(given)
                if InputDirectoryListing.typeFollowing(directory) == InputDirectoryListing.directoryType {
                    if let problem = enter(directory, relative: "") { return problem }
                } else {
                    return InputItem(path: given)
                }
            }
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

    private func nextFromStandardInput(_ reader: InputLineReader) -> InputItem? {
        do {
            while let line = try reader.next() {
                guard !line.isEmpty, filter.isImageNamed(line) else { continue }
                switch InputDirectoryListing.typeFollowing(line) {
                case InputDirectoryListing.directoryType:
                    continue
                case InputDirectoryListing.regularFileType, InputDirectoryListing.unknownType:
                    return InputItem(path: line)  // unknown: missing or unreadable, reported on open
                default:
                    return InputItem(path: line, problem: "not a regular file (FIFO, socket or device)")
                }
            }
            return nil
        } catch {
            return InputItem(path: "<stdin>", problem: "\(error)")
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
