/// Where paths come from: a file or directory named on the command line, or a list on standard input.
package enum InputSource: Sendable, Equatable {
    case path(String)
    /// One path per record, records ending in `separator` (`\n`, or `\0` for `find -print0`).
    case standardInput(separator: UInt8)
}

/// One file to classify, in the order the walk produces it.
package struct InputItem: Sendable, Equatable {
    /// The path as written to the output: the directory argument joined with the entry's relative path,
    /// or the file argument / stdin line exactly as given.
    package let path: String
    /// What `--shard` hashes: the path relative to the directory argument it was found under (so that
    /// machines mounting the tree at different places split it the same way), else `path`.
    package let shardKey: String
    /// Set when the entry is known to be unusable before reading it (a directory that cannot be listed, a
    /// FIFO or device found in a directory or listed on stdin, which would block or never end); it becomes an
    /// error row.
    package let problem: String?

    package init(path: String, shardKey: String? = nil, problem: String? = nil) {
        self.path = path
        self.shardKey = shardKey ?? path
        self.problem = problem
    }
}
