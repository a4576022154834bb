/// What stops a batch run as a whole (as opposed to one bad image, which becomes an error row).
/// Every message names the file or the option at fault.
package enum BatchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `--shard` text that is not `K/N` with `1 <= K <= N`.
    case invalidShard(String)
    /// An `--extensions` entry that is empty or contains a path separator.
    case invalidExtension(String)
    /// The output file cannot be created, opened, truncated or written.
    case outputUnwritable(path: String, reason: String)
    /// The file given to `--resume` cannot be read.
    case resumeUnreadable(path: String, reason: String)
    /// The file given to `--resume` is not an output of this tool in the requested format.
    case resumeMismatch(path: String, line: Int, reason: String)
    /// Standard input could not be read while listing paths.
    case standardInputUnreadable(reason: String)

    package var description: String {
        switch self {
        case .invalidShard(let text):
            "--shard \"\(text)\": expected K/N with whole numbers 1 <= K <= N (e.g. 2/8)"
        case .invalidExtension(let text):
            "--extensions: \"\(text)\" is not a file extension"
        case .outputUnwritable(let path, let reason):
            "\(path): cannot write output (\(reason))"
        case .resumeUnreadable(let path, let reason):
            "\(path): cannot read the output to resume (\(reason))"
        case .resumeMismatch(let path, let line, let reason):
            "\(path), line \(line): cannot resume from this file (\(reason))"
        case .standardInputUnreadable(let reason):
            "<stdin>: cannot read the list of paths (\(reason))"
        }
    }
}
