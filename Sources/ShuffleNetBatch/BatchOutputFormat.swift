import ShuffleNet

/// How results are written. jsonl and csv are one self-contained row per file, written as each finishes,
/// so they can be read while the run goes on and resumed after it is killed.
package enum BatchOutputFormat: String, Sendable, CaseIterable {
    /// For people: the path, then one line per class (or `error: ...`).
    case text
    /// One JSON array of the jsonl objects, streamed (`[`, rows, `]`): valid JSON only once the run ends.
    case json
    /// One JSON object per line: `{"path": ..., "predictions": [{"index", "label", "probability"}, ...]}`
    /// or `{"path": ..., "error": ...}`.
    case jsonl
    /// RFC 4180 CSV with a header: path, top-1 index, label, probability, error, then the rest of top-k.
    case csv

    /// Whether `--resume` can find the finished rows in a file of this format.
    package var isResumable: Bool { self == .jsonl || self == .csv }
}

/// What became of one input.
package enum BatchOutcome: Sendable, Equatable {
    case predictions([Prediction])
    /// The pooled features (`shufflenet embed`), L2-normalised when asked.
    case features([Float])
    /// The reason, naming the file (e.g. "a.jpg: truncated JPEG data ...").
    case failure(String)
}

/// One output row: an input and its outcome, numbered in input order.
package struct BatchRecord: Sendable, Equatable {
    package let sequence: Int
    package let path: String
    package let outcome: BatchOutcome

    package init(sequence: Int, path: String, outcome: BatchOutcome) {
        self.sequence = sequence
        self.path = path
        self.outcome = outcome
    }

    package var isFailure: Bool { if case .failure = outcome { true } else { false } }
}
