import ArgumentParser
import ShuffleNet

@main
struct ShuffleNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shufflenet",
        abstract: "Classify photos with ShuffleNet v1 on the CPU.",
        discussion: """
            Exit codes: 0 success; 1 nothing could run (no weights, bad weights file, unwritable output); \
            2 some inputs failed (the others were still processed) or --fail-fast stopped the run; \
            64 bad command-line usage.
            """,
        version: ShuffleNetLibrary.version,
        subcommands: [ClassifyCommand.self, TrainCommand.self, EmbedCommand.self, InspectCommand.self, ConvertCommand.self, QuantizeCommand.self, BenchCommand.self, PreviewCommand.self],
        defaultSubcommand: nil
    )
}

/// Exit codes scripts can rely on (documented in the README and `shufflenet --help`).
enum ExitStatus {
    static let nothingRan = ExitCode(1)
    static let someInputsFailed = ExitCode(2)
}
